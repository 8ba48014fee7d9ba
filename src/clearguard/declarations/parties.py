"""Party references: whose data key seals which fields.

A trader is `eori:<blind index of its EORI>`, a natural person `person:<blind index of name,
postcode and country>`. References never hold the identifier itself, so the data key table and the
party rows reveal nothing; the same inputs always give the same reference, so a party can be found
again for crypto-shredding or a subject access request.
"""

from __future__ import annotations

import re

from clearguard.declarations.ports import BlindIndexer

_BLIND_REF = re.compile(r"^(eori|person):[0-9a-f]{64}$")


def normalise_eori(eori: str) -> str:
    return eori.strip().upper()


def normalise_name(name: str) -> str:
    return " ".join(name.casefold().split())


def trader_ref(vault: BlindIndexer, eori: str) -> str:
    return "eori:" + vault.blind_index("eori", normalise_eori(eori))


def person_ref(vault: BlindIndexer, name: str, postcode: str | None, country: str) -> str:
    identity = "|".join([normalise_name(name), normalise_name(postcode or ""), country.strip().upper()])
    return "person:" + vault.blind_index("person", identity)


def resolve(vault: BlindIndexer, party: str) -> str:
    """A party reference from what an operator types: `eori:GB123456789000`, a bare EORI, or a
    reference as stored (`eori:<64 hex>`, `person:<64 hex>`)."""
    party = party.strip()
    if _BLIND_REF.fullmatch(party):
        return party
    return trader_ref(vault, party.removeprefix("eori:"))
