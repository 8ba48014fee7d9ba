"""Blind indexes (pure): HMAC-SHA256 under a key of their own over a normalised value.

Equal inputs after normalisation give equal indexes, so equality search works without decrypting;
the kind is bound into the MAC, so an EORI index never matches a name index of the same text.
Normalisation is idempotent, so callers that already normalise get the same index.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable
from typing import Final

_KIND: Final = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_EORI: Final = re.compile(r"^[A-Z]{2}[0-9A-Z]{1,15}$")
_NOT_WORD: Final = re.compile(r"[^\w]+")
INDEX_KEY_BYTES: Final = 32


def normalise_eori(value: str) -> str:
    """Upper case without spaces, dots or dashes: 'gb 123-456.789 000' -> 'GB123456789000'."""
    compact = re.sub(r"[\s.\-]", "", value).upper()
    if not _EORI.match(compact):
        raise ValueError("not an EORI number: two letters then up to 15 letters or digits")
    return compact


def normalise_name(value: str) -> str:
    """Case, accents, punctuation and spacing do not matter: 'Müller-Lüdenscheidt,  Jörg' ->
    'muller ludenscheidt jorg'."""
    if value.isascii():
        # The usual case, letters and digits between spaces: what the pattern below would give, without it.
        words = " ".join(value.lower().split())
        if words.replace(" ", "").isalnum():
            return words
    else:  # ASCII has nothing to decompose: only the rest takes the per-character walk
        decomposed = unicodedata.normalize("NFKD", value)
        value = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = _NOT_WORD.sub(" ", value.casefold()).replace("_", " ")
    return " ".join(words.split())


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_phone(value: str) -> str:
    digits = re.sub(r"[^\d+]", "", value)
    return "+" + digits[2:] if digits.startswith("00") else digits


def normalise_exact(value: str) -> str:
    if value.isascii():  # already NFC (isascii is a flag check, not a scan)
        return value.strip()
    return unicodedata.normalize("NFC", value).strip()


def normalise_party(value: str) -> str:
    """'EORI:gb123…' -> 'eori:GB123…'; other prefixes keep their (opaque) identifier."""
    prefix, sep, rest = value.partition(":")
    if not sep or not rest:
        raise ValueError("party reference must be 'kind:identifier'")
    prefix = prefix.strip().lower()
    rest = rest.strip()
    if prefix == "eori":
        # Not an EORI: already an opaque index of one, as the lifecycle passes it.
        with contextlib.suppress(ValueError):
            rest = normalise_eori(rest)
    return f"{prefix}:{rest}"


NORMALISERS: Final[dict[str, Callable[[str], str]]] = {
    "eori": normalise_eori,
    "name": normalise_name,
    "email": normalise_email,
    "phone": normalise_phone,
    "party": normalise_party,
}


_MAX_KINDS: Final = 256


class BlindIndexer:
    def __init__(self, key: bytes) -> None:
        if len(key) != INDEX_KEY_BYTES:
            raise ValueError("blind index key must be 32 bytes")
        # One keyed HMAC state, copied per value: saves re-keying on every call.
        self._base = hmac.new(key, digestmod=hashlib.sha256)
        # Per kind: its normaliser and the keyed state with `kind \x00` already absorbed, so an index is
        # one dict probe, one copy, one update; the MAC input is the same as ever.
        self._kinds: dict[str, tuple[Callable[[str], str], hmac.HMAC]] = {}

    def index(self, kind: str, value: str) -> str:
        entry = self._kinds.get(kind)
        if entry is None:
            entry = self._kind(kind)
        mac = entry[1].copy()
        mac.update(entry[0](value).encode())
        return mac.hexdigest()

    def _kind(self, kind: str) -> tuple[Callable[[str], str], hmac.HMAC]:
        if not _KIND.match(kind):
            raise ValueError(f"blind index kind {kind!r} is not a lower-case identifier")
        mac = self._base.copy()
        mac.update(kind.encode() + b"\x00")
        entry = (NORMALISERS.get(kind, normalise_exact), mac)
        if len(self._kinds) < _MAX_KINDS:  # kinds are the code's own names; bounded all the same
            self._kinds[kind] = entry
        return entry
