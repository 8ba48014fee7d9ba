"""Sealing of small secrets that the service itself must read back (TOTP seeds), under a service key.

Pure: no files, no database. A TOTP seed cannot be hashed like a password, because verifying a code
needs the seed itself; stored in clear, anyone holding the database file or a backup could mint
second-factor codes for every account. So it is sealed with AES-256-GCM under a key of its own (kept
in var/keys wrapped by the provider's auxiliary key-encryption key, as the blind-index key is), with
the purpose and the owner bound in as associated data: a sealed seed copied onto another account does
not open.

Stored text: "v1." + URL-safe base64 (no padding) of nonce (12 bytes) | ciphertext | tag (16 bytes).
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clearguard.crypto.envelope import KEY_BYTES, NONCE_BYTES
from clearguard.crypto.errors import DecryptionFailed

PREFIX: Final = "v1."


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def _aad(purpose: str, owner: str) -> bytes:
    # Length-prefixed, so no two (purpose, owner) pairs give the same bytes.
    return f"clearguard/secret-box/v1|{len(purpose)}:{purpose}{len(owner)}:{owner}".encode()


class SecretBox:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError("secret box key must be 32 bytes")
        self._aead = AESGCM(key)

    def is_sealed(self, stored: str) -> bool:
        """Whether `stored` is in this box's format (anything else was never sealed)."""
        return is_sealed(stored)

    def seal(self, purpose: str, owner: str, secret: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        body = nonce + self._aead.encrypt(nonce, secret.encode(), _aad(purpose, owner))
        return PREFIX + base64.urlsafe_b64encode(body).decode().rstrip("=")

    def open(self, purpose: str, owner: str, stored: str) -> str:
        """The secret, or DecryptionFailed (one opaque error: tampered, moved to another owner, wrong
        key or malformed are never told apart)."""
        if not is_sealed(stored):
            raise DecryptionFailed("sealed secret is malformed or of an unknown format")
        text = stored[len(PREFIX) :]
        try:
            body = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            return self._aead.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], _aad(purpose, owner)).decode()
        except (binascii.Error, ValueError, InvalidTag):
            raise DecryptionFailed(
                "sealed secret does not open (tampered, moved from another account, or wrong key)"
            ) from None
