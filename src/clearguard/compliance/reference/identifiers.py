"""Formats of trader and equipment identifiers: EORI numbers and ISO 6346 container ids."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from clearguard.compliance.reference.check_digits import iso6346_check_digit

# EORI: the issuing country's ISO 3166 code (XI for Northern Ireland) and up to 15 alphanumerics
# (the generic form). Countries that publish their own format are checked against it; the formats
# are data of the rule pack (rule CG-EORI-001's params), not code.
EORI = re.compile(r"([A-Z]{2})([A-Z0-9]{1,15})")
GENERIC_EORI_TEXT = "a 2-letter country code followed by 1 to 15 uppercase letters or digits"


@dataclass(frozen=True, slots=True)
class EoriFormat:
    """What follows the country code in one country's EORI numbers, and that rule in words."""

    pattern: re.Pattern[str]
    text: str


@dataclass(frozen=True, slots=True)
class EoriFormats:
    """The generic EORI form, and the national formats of the countries that publish one."""

    countries: frozenset[str]
    national: Mapping[str, EoriFormat] = field(default_factory=dict)

    def problem(self, eori: str) -> str | None:
        """Why `eori` is not a well-formed EORI number, or None when it is."""
        match = EORI.fullmatch(eori)
        if match is None:
            return "expected " + GENERIC_EORI_TEXT
        country, rest = match.groups()
        if country not in self.countries:
            return f"{country} is not an ISO 3166-1 country code"
        own = self.national.get(country)
        if own is not None and own.pattern.fullmatch(rest) is None:
            return f"{country} EORI numbers are {country} followed by {own.text}"
        return None


def eori_problem(eori: str, countries: frozenset[str]) -> str | None:
    """Why `eori` is not a well-formed EORI number in the generic form, or None when it is."""
    return EoriFormats(countries).problem(eori)


# ISO 6346: owner code (3 letters), category (U freight container, J detachable equipment,
# Z trailer or chassis), 6-digit serial number, check digit.
CONTAINER_ID = re.compile(r"[A-Z]{3}[UJZ][0-9]{7}")


def container_id_problem(container_id: str) -> str | None:
    """Why `container_id` is not a valid ISO 6346 container id, or None when it is."""
    if CONTAINER_ID.fullmatch(container_id) is None:
        return "expected 3 letters, category U, J or Z, 6 digits and a check digit (e.g. CSQU3054383)"
    expected = iso6346_check_digit(container_id[:10])
    if int(container_id[10]) != expected:
        return f"check digit {container_id[10]} does not match the computed {expected}"
    return None
