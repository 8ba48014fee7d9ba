"""What enters the ledger: salted commitments and the entry that carries one.

A commitment is SHA-256 over a length-prefixed canonical encoding of (kind, record id, salt,
record bytes). The salt is random per record and kept, encrypted, with the record: without it a
commitment reveals nothing about low-entropy content, and destroying it (crypto-shredding) leaves
the ledger intact while the content becomes unprovable. Only the kind, an opaque record id and the
32-byte commitment are written into an entry, so no personal data ever enters the ledger."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from clearguard.ledger.errors import EntryError

COMMITMENT_DOMAIN: Final = b"clearguard/commitment/v1\x00"
ENTRY_HEADER: Final = "clearguard/entry/v1"
SALT_SIZE: Final = 32
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}")
# Exactly the bytes decode_entry accepts: the header, two tokens, and the canonical base64 of 32
# bytes (43 characters whose last carries 4 data bits and 2 zero bits, then one "=").
_ENTRY = re.compile(
    rb"clearguard/entry/v1\n"
    rb"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}\n"
    rb"[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}\n"
    rb"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=\n"
)


RECORD_ID_DOMAIN: Final = b"clearguard/record-id/v1\x00"


class RecordIds:
    """Opaque record ids for public entries: HMAC-SHA-256 under the ledger's record key of the
    record's private kind, label (an MRN and version) and salt, cut to 128 bits. Without the key an
    id cannot be linked to an MRN, nor two entries of one declaration to each other (each has its own
    salt); the operator, holding the key and the sealed salt, recomputes it. Shredding the salt
    leaves an id that nobody can link any more."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise EntryError("record key must be at least 32 bytes", field="record_key")
        self._key = key

    def opaque(self, kind: str, label: str, salt: bytes) -> str:
        mac = hmac.new(self._key, RECORD_ID_DOMAIN, hashlib.sha256)
        for part in (kind.encode(), label.encode(), salt):
            mac.update(_field(part))
        return mac.digest()[:16].hex()


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


def check_entry(data: bytes) -> None:
    """Refuses what decode_entry refuses, without building the entry: one match of the bytes.
    The writers' check on every appended entry (bulk lodging appends thousands per transaction)."""
    if not isinstance(data, bytes) or _ENTRY.fullmatch(data) is None:
        decode_entry(data)  # raises the precise error
        raise EntryError("ledger entry: not a clearguard/entry/v1 entry")  # pragma: no cover


def commit_entry(kind: str, record_id: str, canonical_bytes: bytes, salt: bytes) -> bytes:
    """The entry bytes for a record: what a capability passes to LedgerService.append."""
    return encode_entry(kind, record_id, commitment(kind, record_id, canonical_bytes, salt))


def commit_entries(kind: str, records: Iterable[tuple[str, bytes, bytes]]) -> list[bytes]:
    """`commit_entry(kind, record_id, canonical_bytes, salt)` for each (record_id, canonical_bytes,
    salt), byte for byte, with the kind checked and hashed once: for bulk writers."""
    _check_token(kind, "kind")
    kind_bytes = kind.encode()
    base = hashlib.sha256(COMMITMENT_DOMAIN + _field(kind_bytes))
    head = f"{ENTRY_HEADER}\n{kind}\n".encode()
    fullmatch = _TOKEN.fullmatch
    b64 = base64.b64encode
    out: list[bytes] = []
    for record_id, canonical_bytes, salt in records:
        if not fullmatch(record_id):
            _check_token(record_id, "record_id")
        if not 16 <= len(salt) <= 64:
            raise EntryError("salt must be 16 to 64 random bytes", field="salt")
        rid = record_id.encode()
        h = base.copy()
        h.update(b"".join((_field(rid), _field(salt), _field(canonical_bytes))))
        out.append(b"".join((head, rid, b"\n", b64(h.digest()), b"\n")))
    return out
