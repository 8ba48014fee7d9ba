"""ISO 6346 check digit, the algorithm shared by container ids and EU MRNs.

Each character gets a value (digits their own value; letters 10..38, skipping the multiples of 11
so that no letter is worth the same as a check digit modulo 11), is weighted by 2**position, and the
sum modulo 11 (with 10 written as 0) is the check digit. The EU MRN uses the same algorithm over its
first 17 characters, so the function is general over uppercase alphanumerics of any length.
"""

from __future__ import annotations

import string


def _letter_values() -> dict[str, int]:
    values: dict[str, int] = {d: int(d) for d in string.digits}
    value = 10
    for letter in string.ascii_uppercase:
        if value % 11 == 0:
            value += 1
        values[letter] = value
        value += 1
    return values


CHAR_VALUES: dict[str, int] = _letter_values()


def iso6346_check_digit(text: str) -> int:
    """The ISO 6346 check digit (0..9) of `text`, uppercase letters and digits only.

    For a container id pass the first 10 characters (owner code, category, serial number); for an
    MRN the first 17. Raises ValueError on an empty text or any other character.
    """
    if not text:
        raise ValueError("check digit of an empty text")
    total = 0
    try:
        for position, char in enumerate(text):
            total += CHAR_VALUES[char] << position
    except KeyError:
        raise ValueError(f"character {char!r} is not an uppercase letter or digit") from None
    return total % 11 % 10
