"""Keyed pseudonyms (pure): HMAC-SHA256 under a key per partner over a kind and a normalised value,
as ENISA's guidance on pseudonymisation techniques describes.

One partner's key gives one trader or person the same pseudonym in every package, so the partner
links them without learning who they are; another partner's key gives unrelated pseudonyms, so two
partners cannot join their records. The kind is bound into the MAC (kind, a zero byte, the value),
so an EORI and a name that happen to share their text never share a pseudonym. Re-identification is
only possible for the holder of the key, by recomputing: there is no inverse here.

Normalisation is the blind indexes' (clearguard.crypto.blind), so a value that finds a party there
gives the same pseudonym here: EORIs upper-cased without spaces, dots or dashes; names and other
text case-folded, accents and punctuation dropped, whitespace collapsed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Final

from clearguard.crypto.blind import normalise_eori, normalise_name
from clearguard.sharing.errors import SharingInputError

MIN_KEY_BYTES: Final = 32
PREFIX: Final = "pn:"
_KIND: Final = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def normalise(kind: str, value: str) -> str:
    """The text that is MACed: an EORI for kind "eori", a name for every other kind."""
    if not isinstance(value, str):
        raise SharingInputError(f"value: the {kind} to pseudonymise is text", field="value")
    if kind == "eori":
        try:
            return normalise_eori(value)
        except ValueError as exc:
            raise SharingInputError(f"value: {exc}", field="value") from exc
    normalised = normalise_name(value)
    if not normalised:
        raise SharingInputError(f"value: the {kind} to pseudonymise is empty", field="value")
    return normalised


def pseudonym(key: bytes, kind: str, value: str) -> str:
    """'pn:' and the lower-case base32 (no padding) of HMAC-SHA256(key, kind 0x00 normalised value)."""
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise SharingInputError(f"key: a pseudonym key is at least {MIN_KEY_BYTES} bytes", field="key")
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise SharingInputError("kind: a lower-case word such as 'eori' or 'name'", field="kind")
    message = kind.encode("ascii") + b"\x00" + normalise(kind, value).encode("utf-8")
    mac = hmac.new(key, message, hashlib.sha256).digest()
    return PREFIX + base64.b32encode(mac).decode("ascii").rstrip("=").lower()
