"""ISO 4217 alphabetic currency codes."""

from __future__ import annotations

import pycountry

# Codes ISO 4217 added after the pycountry release we pin (24.6): the Caribbean guilder (2025,
# Curaçao and Sint Maarten) and Zimbabwe Gold (2024). Withdrawn codes that pycountry still lists are
# refused by the rule pack's `excluded` list, not here, so a pack can phase them out by date.
NEWER_CURRENCIES = frozenset({"XCG", "ZWG"})


def load_currencies() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies) | NEWER_CURRENCIES
