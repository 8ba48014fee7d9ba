"""What the lifecycle needs from other capabilities, as protocols.

The lifecycle service is the one way declarations are written; encryption, the ledger, the audit
trail and risk scoring plug in here. Each capability's service satisfies its protocol; the wiring is
in clearguard.wiring.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.orm import Session

from clearguard.crypto.fields import Erased, FieldRef
from clearguard.risk.lodging import RiskOutcome


class FieldVault(Protocol):
    """Envelope encryption of protected fields, one data key per party."""

    def key_for_party(self, session: Session, party_ref: str) -> int:
        """Id of the party's data key, created (and wrapped) on first use."""
        ...

    def seal(self, session: Session, key_id: int, ref: FieldRef, plaintext: str) -> bytes: ...

    def open(self, session: Session, key_id: int, ref: FieldRef, blob: bytes) -> str | Erased: ...

    def seal_many(self, session: Session, items: Sequence[tuple[int, FieldRef, str]]) -> list[bytes]:
        """(key id, where, plaintext) of one record's values, sealed in order."""
        ...

    def open_many(self, session: Session, items: Sequence[tuple[int, FieldRef, bytes]]) -> list[str | Erased]:
        """(key id, where, blob) of one record's values, opened in order."""
        ...

    def blind_index(self, kind: str, value: str) -> str:
        """Deterministic keyed index (hex) for equality search without decrypting."""
        ...


class LedgerSink(Protocol):
    def append(self, session: Session, entry: bytes) -> int:
        """Sequence one entry inside the caller's transaction; returns its index."""
        ...


class RiskAssessor(Protocol):
    def assess_declaration(
        self, session: Session, *, mrn: str, payload: dict[str, Any], findings: Sequence[Any], fresh: bool = False
    ) -> RiskOutcome:
        """Score a lodged declaration (before its rows are inserted, so the status is final at once).
        `fresh`: the MRN was just made, so there is no earlier decision to keep."""
        ...
