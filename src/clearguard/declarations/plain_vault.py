"""A FieldVault that does not encrypt: for the benchmark's "encryption off" baseline only.

Production wiring (clearguard.services) always uses the crypto capability's envelope vault.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy.orm import Session

from clearguard.declarations.ports import Erased, FieldRef


class PlainVault:
    def key_for_party(self, session: Session, party_ref: str) -> int:
        return 0

    def seal(self, session: Session, key_id: int, ref: FieldRef, plaintext: str) -> bytes:
        return plaintext.encode()

    def open(self, session: Session, key_id: int, ref: FieldRef, blob: bytes) -> str | Erased:
        return blob.decode()

    def seal_many(self, session: Session, items: Sequence[tuple[int, FieldRef, str]]) -> list[bytes]:
        return [plaintext.encode() for _key_id, _ref, plaintext in items]

    def open_many(self, session: Session, items: Sequence[tuple[int, FieldRef, bytes]]) -> list[str | Erased]:
        return [blob.decode() for _key_id, _ref, blob in items]

    def blind_index(self, kind: str, value: str) -> str:
        return hashlib.sha256(f"{kind}\n{value}".encode()).hexdigest()
