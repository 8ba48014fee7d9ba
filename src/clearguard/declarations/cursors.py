"""Opaque list cursors: the position of a page, sealed so that it reveals and accepts nothing.

A plain cursor (the last row id in base64) told anyone the platform's volume and let a caller
forge positions (a 40-digit id once answered 500). A cursor is now AES-256-GCM over the 8-byte row
id, under a key derived from the blind-index key (HMAC with its own label, so it is a different key),
which every process of one installation shares: a cursor from one API worker or the CLI opens in any
other. Anything that is not a cursor this installation sealed is a 422 naming `cursor`.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clearguard.errors import InputError

_VERSION = b"\x01"
_NONCE_BYTES = 12
_ID = struct.Struct(">Q")
_SEALED_BYTES = 1 + _NONCE_BYTES + _ID.size + 16  # version, nonce, ciphertext, tag
# Bound into every cursor: a cursor of another list (or a future format) never opens as this one.
_AAD = b"clearguard:declarations:list-cursor:v1"
# The "kind" under which the key is derived from the blind-index key (an HMAC label, never an index).
_KEY_LABEL = "cursor_key"
MAX_CURSOR_CHARS = 64


class BadCursor(InputError):
    """A cursor that this installation did not seal, or that was altered: refused like bad input."""

    slug = "invalid-cursor"
    title = "Invalid cursor"
    status = 422


class KeySource(Protocol):
    """Where the cursor key comes from: the field vault's keyed blind index (HMAC-SHA256)."""

    def blind_index(self, kind: str, value: str) -> str: ...


def _cipher(keys: KeySource) -> AESGCM:
    # HMAC-SHA256(index key, label || 0 || purpose): 32 bytes, a key of its own for AES-256-GCM.
    return AESGCM(bytes.fromhex(keys.blind_index(_KEY_LABEL, "declarations.list")))


def seal_cursor(keys: KeySource, row_id: int) -> str:
    """The opaque cursor of the page that continues after `row_id`."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher(keys).encrypt(nonce, _ID.pack(row_id), _AAD)
    return base64.urlsafe_b64encode(_VERSION + nonce + sealed).decode().rstrip("=")


def open_cursor(keys: KeySource, cursor: str) -> int:
    """The row id sealed in `cursor`; BadCursor (422, field `cursor`) for anything else."""
    refused = BadCursor("cursor: not a cursor returned by a previous page of this list", field="cursor")
    if not cursor or len(cursor) > MAX_CURSOR_CHARS or not cursor.isascii():
        raise refused
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise refused from None
    # Only the one canonical spelling: base64 lets the last character vary in bits it ignores.
    if (
        len(raw) != _SEALED_BYTES
        or raw[:1] != _VERSION
        or base64.urlsafe_b64encode(raw).rstrip(b"=") != cursor.encode()
    ):
        raise refused
    try:
        plain = _cipher(keys).decrypt(raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :], _AAD)
    except InvalidTag:
        raise refused from None
    (row_id,) = _ID.unpack(plain)
    return int(row_id)
