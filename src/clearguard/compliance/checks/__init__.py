"""The registered checks rule packs can name; importing this package registers them all."""

from clearguard.compliance.checks import codes, declarant, goods, quantities, valuation
from clearguard.compliance.checks.base import REGISTRY, CheckSpec, Context, LrnLookup

__all__ = [
    "REGISTRY",
    "CheckSpec",
    "Context",
    "LrnLookup",
    "codes",
    "declarant",
    "goods",
    "quantities",
    "valuation",
]
