"""Formats of trader and equipment identifiers: EORI numbers and ISO 6346 container ids."""

from __future__ import annotations

import re

from clearguard.compliance.reference.check_digits import iso6346_check_digit

# EORI: the issuing country's ISO 3166 code (XI for Northern Ireland) and up to 15 alphanumerics.
EORI = re.compile(r"([A-Z]{2})([A-Z0-9]{1,15})")

# ISO 6346: owner code (3 letters), category (U freight container, J detachable equipment,
# Z trailer or chassis), 6-digit serial number, check digit.
CONTAINER_ID = re.compile(r"[A-Z]{3}[UJZ][0-9]{7}")


def eori_problem(eori: str, countries: frozenset[str]) -> str | None:
    """Why `eori` is not a well-formed EORI number, or None when it is."""
    match = EORI.fullmatch(eori)
    if match is None:
        return "expected a 2-letter country code followed by 1 to 15 uppercase letters or digits"
    if match.group(1) not in countries:
        return f"{match.group(1)} is not an ISO 3166-1 country code"
    return None


def container_id_problem(container_id: str) -> str | None:
    """Why `container_id` is not a valid ISO 6346 container id, or None when it is."""
    if CONTAINER_ID.fullmatch(container_id) is None:
        return "expected 3 letters, category U, J or Z, 6 digits and a check digit (e.g. CSQU3054383)"
    expected = iso6346_check_digit(container_id[:10])
    if int(container_id[10]) != expected:
        return f"check digit {container_id[10]} does not match the computed {expected}"
    return None
