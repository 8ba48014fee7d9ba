"""Opaque tokens and one-time codes: generated from the OS CSPRNG, stored only as SHA-256 digests.

Every value here carries at least 128 bits (recovery codes 120 bits), so by NIST SP 800-63B 5.1.2.1 an
unsalted approved hash is the right storage; a slow KDF would add cost without adding safety.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # 32 symbols, no 0/O or 1/I look-alikes
_RECOVERY_LENGTH = 24  # 24 x 5 bits = 120 bits >= 112 required to store with a plain hash


def new_token(prefix: str) -> str:
    """A bearer secret: `prefix` + 256 random bits, base64url. The prefix makes leaked tokens greppable."""
    return prefix + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def digest(value: str) -> str:
    # surrogatepass: a lone surrogate from JSON ("\ud800") must hash to nothing known, not raise.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    return codes


def normalize_recovery_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))


def recovery_digest(code: str) -> str:
    return digest("recovery:" + normalize_recovery_code(code))
