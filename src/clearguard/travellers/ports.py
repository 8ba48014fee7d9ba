"""What the travellers need from other capabilities, as protocols (wired in clearguard.wiring)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.orm import Session

from clearguard.audit import NewAuditEvent
from clearguard.crypto.fields import Erased, FieldRef


class TravellerVault(Protocol):
    """Envelope encryption, one data key per traveller (clearguard.crypto.service.CryptoService)."""

    def key_for_party(self, session: Session, party_ref: str) -> int: ...

    def seal_many(self, session: Session, items: Sequence[tuple[int, FieldRef, str]]) -> list[bytes]: ...

    def open_many(self, session: Session, items: Sequence[tuple[int, FieldRef, bytes]]) -> list[str | Erased]: ...

    def blind_index(self, kind: str, value: str) -> str: ...


class Shredder(Protocol):
    def shred(self, session: Session, party_ref: str) -> int:
        """Destroy the party's data keys in the caller's transaction; returns how many."""
        ...


class AuditRecorder(Protocol):
    def record(self, session: Session, event: NewAuditEvent) -> object:
        """One audit event, committed in the caller's transaction."""
        ...
