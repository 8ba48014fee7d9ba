"""What enters the ledger: salted commitments and the entry that carries one.

A commitment is SHA-256 over a length-prefixed canonical encoding of (kind, record id, salt,
record bytes). The salt is random per record and kept, encrypted, with the record: without it a
commitment reveals nothing about low-entropy content, and destroying it (crypto-shredding) leaves
the ledger intact while the content becomes unprovable. Only the kind, an opaque record id and the
32-byte commitment are written into an entry, so no personal data ever enters the ledger."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Final

from clearguard.ledger.errors import EntryError

COMMITMENT_DOMAIN: Final = b"clearguard/commitment/v1\x00"
ENTRY_HEADER: Final = "clearguard/entry/v1"
SALT_SIZE: Final = 32
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}")


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_SIZE)


def _check_token(value: str, what: str) -> None:
    # Kinds and record ids are opaque identifiers (UUIDs, MRNs, numbers); the narrow alphabet keeps
    # names, addresses and free text out of the ledger by construction.
    if not _TOKEN.fullmatch(value):
        raise EntryError(f"{what} {value!r}: 1-128 characters of A-Z a-z 0-9 . _ : / -", field=what)


def _field(data: bytes) -> bytes:
    return len(data).to_bytes(8, "big") + data


def commitment(kind: str, record_id: str, canonical_bytes: bytes, salt: bytes) -> bytes:
    """SHA-256(domain || len|kind || len|record_id || len|salt || len|canonical_bytes)."""
    _check_token(kind, "kind")
    _check_token(record_id, "record_id")
    if not 16 <= len(salt) <= 64:
        raise EntryError("salt must be 16 to 64 random bytes", field="salt")
    h = hashlib.sha256(COMMITMENT_DOMAIN)
    for part in (kind.encode(), record_id.encode(), salt, canonical_bytes):
        h.update(_field(part))
    return h.digest()


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    kind: str
    record_id: str
    commitment: bytes

    def encode(self) -> bytes:
        _check_token(self.kind, "kind")
        _check_token(self.record_id, "record_id")
        if len(self.commitment) != 32:
            raise EntryError("commitment must be 32 bytes", field="commitment")
        digest = base64.b64encode(self.commitment).decode()
        return f"{ENTRY_HEADER}\n{self.kind}\n{self.record_id}\n{digest}\n".encode()


def encode_entry(kind: str, record_id: str, commitment_: bytes) -> bytes:
    return LedgerEntry(kind, record_id, commitment_).encode()


def decode_entry(data: bytes) -> LedgerEntry:
    try:
        header, kind, record_id, digest, tail = data.decode("ascii").split("\n")
    except (UnicodeDecodeError, ValueError) as exc:
        raise EntryError("ledger entry: not a clearguard/entry/v1 entry") from exc
    if header != ENTRY_HEADER or tail:
        raise EntryError("ledger entry: not a clearguard/entry/v1 entry")
    try:
        raw = base64.b64decode(digest, validate=True)
    except ValueError as exc:
        raise EntryError("ledger entry: commitment is not base64") from exc
    entry = LedgerEntry(kind, record_id, raw)
    if entry.encode() != data:
        raise EntryError("ledger entry: not in canonical form")
    return entry


def commit_entry(kind: str, record_id: str, canonical_bytes: bytes, salt: bytes) -> bytes:
    """The entry bytes for a record: what a capability passes to LedgerService.append."""
    return encode_entry(kind, record_id, commitment(kind, record_id, canonical_bytes, salt))
