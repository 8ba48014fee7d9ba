"""Envelope encryption core (pure: no files, no database, no token).

Field blob, format version 1 (29 bytes of overhead):

    0x01 | nonce (12 random bytes) | AES-256-GCM ciphertext | tag (16 bytes)

The associated data (field_aad) is the format byte and the length-prefixed table, record id, field and
version, so a blob copied onto another record, field or version, or re-labelled as another format, fails.

The AES key of a field is not the stored data key itself but HKDF-SHA256(data key, salt = the party's
secret share). The share lives outside the database (see secret_store), so a database backup holding the
wrapped data key is useless once the share is destroyed: that is what makes crypto-shredding reach old
backups.
"""

from __future__ import annotations

import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from clearguard.crypto.errors import DecryptionFailed
from clearguard.crypto.fields import field_aad as field_aad  # re-exported: the AAD of a field

FORMAT_V1: Final = 0x01
_HEADER_V1: Final = bytes([FORMAT_V1])
KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
OVERHEAD: Final = 1 + NONCE_BYTES + TAG_BYTES
_FIELD_KEY_INFO: Final = b"clearguard/field-key/v1"
_WRAP_HEADER: Final = b"\x01"


def new_key() -> bytes:
    return os.urandom(KEY_BYTES)


def field_key(data_key: bytes, party_share: bytes) -> AESGCM:
    """The per-party field cipher: both the unwrapped data key and the party's share are needed."""
    if len(data_key) != KEY_BYTES or len(party_share) != KEY_BYTES:
        raise ValueError("data key and party share must be 32 bytes")
    okm = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=party_share, info=_FIELD_KEY_INFO).derive(data_key)
    return AESGCM(okm)


def seal_field(aead: AESGCM, aad: bytes, plaintext: bytes) -> bytes:
    # Random 96-bit nonces: a party key would need ~2^32 seals before the collision bound matters,
    # and a party's declarations are orders of magnitude fewer.
    nonce = os.urandom(NONCE_BYTES)
    return _HEADER_V1 + nonce + aead.encrypt(nonce, plaintext, aad)


def open_field(aead: AESGCM, aad: bytes, blob: bytes) -> bytes:
    """Plaintext bytes, or DecryptionFailed (one opaque error: the cause is never told apart)."""
    if len(blob) < OVERHEAD or blob[0] != FORMAT_V1:
        raise DecryptionFailed("ciphertext is malformed or of an unknown format")
    try:
        return aead.decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)
    except InvalidTag:
        raise DecryptionFailed(
            "ciphertext does not authenticate (tampered, moved from another record, or wrong key)"
        ) from None


def wrap_aad(key_uid: str, kek_version: int) -> bytes:
    """Binds a wrapped data key to its own row and KEK version, so wrapped keys cannot be swapped."""
    return f"clearguard/data-key/v1|{key_uid}|{kek_version}".encode()


def secret_aad(name: str) -> bytes:
    return f"clearguard/secret/v1|{name}".encode()


def gcm_wrap(kek: AESGCM, key: bytes, aad: bytes) -> bytes:
    """Wrapped key: 0x01 | nonce | ciphertext+tag. Used by the file provider; the PKCS#11 provider
    produces the same layout from the token's CKM_AES_GCM."""
    nonce = os.urandom(NONCE_BYTES)
    return _WRAP_HEADER + nonce + kek.encrypt(nonce, key, aad)


def split_wrapped(wrapped: bytes) -> tuple[bytes, bytes]:
    """(nonce, ciphertext+tag) of a wrapped key; DecryptionFailed when malformed."""
    if len(wrapped) != 1 + NONCE_BYTES + KEY_BYTES + TAG_BYTES or wrapped[:1] != _WRAP_HEADER:
        raise DecryptionFailed("wrapped key is malformed")
    return wrapped[1 : 1 + NONCE_BYTES], wrapped[1 + NONCE_BYTES :]


def gcm_unwrap(kek: AESGCM, wrapped: bytes, aad: bytes) -> bytes:
    nonce, body = split_wrapped(wrapped)
    try:
        return kek.decrypt(nonce, body, aad)
    except InvalidTag:
        raise DecryptionFailed("wrapped key does not authenticate under this key-encryption key") from None
