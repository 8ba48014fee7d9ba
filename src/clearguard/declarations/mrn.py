"""Movement Reference Numbers in the EU layout (UCC DA/IA Annex B, data element 12 28 000 000).

18 characters: 2-digit year, 2-letter country of the office, 12 alphanumerics, a procedure letter,
and a check digit computed with the ISO 6346 algorithm over the first 17 characters.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import date

from clearguard.compliance.reference.check_digits import iso6346_check_digit
from clearguard.errors import InputError

MRN_PATTERN = re.compile(r"^[0-9]{2}[A-Z]{2}[A-Z0-9]{12}[A-Z][0-9]$")
_ALPHABET = string.ascii_uppercase + string.digits
_BODIES = 36**12  # one uniform draw gives all twelve characters

# Procedure letters of the annex; H1 and H7 are "import declaration only".
PROCEDURE_LETTERS = {"H1": "R", "H7": "R"}


def make_mrn(country: str, procedure_letter: str, *, on: date | None = None) -> str:
    """A fresh MRN; the 12-character body is random so MRNs reveal nothing about volumes."""
    year = (on or date.today()).year % 100
    number = secrets.randbelow(_BODIES)
    body = ""
    for _ in range(12):
        number, digit = divmod(number, 36)
        body += _ALPHABET[digit]
    head = f"{year:02d}{country.upper()}{body}{procedure_letter}"
    return head + str(iso6346_check_digit(head))


def validate_mrn(value: str, *, field: str = "mrn") -> str:
    """The MRN itself, or InputError naming what is wrong with it."""
    mrn = value.strip().upper()
    if not MRN_PATTERN.fullmatch(mrn):
        raise InputError(
            f"{field}: an MRN has 18 characters: 2 digits, 2 letters, 12 letters or digits, a letter, a digit",
            field=field,
        )
    if iso6346_check_digit(mrn[:17]) != int(mrn[17]):
        raise InputError(f"{field}: check digit of MRN {mrn} is wrong", field=field)
    return mrn
