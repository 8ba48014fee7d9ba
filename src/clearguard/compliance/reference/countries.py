"""ISO 3166-1 alpha-2 countries, and the currency of each (country-currency.csv, see its .md note)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from importlib import resources
from types import MappingProxyType

import pycountry

# Codes customs uses beyond ISO 3166-1 proper: XI Northern Ireland (EU/UK customs code under the
# Windsor Framework) and XK Kosovo (user-assigned, used by the EU and UN).
EXTRA_COUNTRIES = frozenset({"XI", "XK"})


def load_countries() -> frozenset[str]:
    return frozenset(c.alpha_2 for c in pycountry.countries) | EXTRA_COUNTRIES


def load_country_currency() -> Mapping[str, str]:
    text = resources.files(__package__).joinpath("country-currency.csv").read_text("utf-8")
    table = {row["country"]: row["currency"] for row in csv.DictReader(io.StringIO(text))}
    return MappingProxyType(table)
