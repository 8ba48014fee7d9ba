"""What the lifecycle needs from other capabilities, as protocols.

The lifecycle service is the one way declarations are written; encryption, the ledger, the audit
trail and risk scoring plug in here. Each capability's service satisfies its protocol; the wiring is
in clearguard.wiring.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from clearguard.audit import NewAuditEvent
from clearguard.compliance.findings import Finding
from clearguard.crypto.fields import Erased, FieldRef
from clearguard.risk.lodging import RiskOutcome


class BlindIndexer(Protocol):
    def blind_index(self, kind: str, value: str) -> str:
        """Deterministic keyed index (hex) for equality search without decrypting."""
        ...


class FieldVault(Protocol):
    """Envelope encryption of protected fields, one data key per party."""

    def key_for_party(self, session: Session, party_ref: str) -> int:
        """Id of the party's data key, created (and wrapped) on first use."""
        ...

    def keys_for_parties(self, session: Session, party_refs: Sequence[str]) -> list[int]:
        """key_for_party for many parties at once (every party of a batch), in the same order; a
        batch's sealing then finds each key in the transaction's own map."""
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

    def close(self) -> None:
        """Releases the key provider (a PKCS#11 session, cached key objects) at shutdown."""
        ...


class RetentionSchedule(Protocol):
    def schedule_of(
        self, session: Session, *, mrn: str, office: str, accepted_at: datetime, parties: Collection[str]
    ) -> dict[str, Any]:
        """When the declaration falls due for disposal and why: {"policy", "jurisdiction", "start",
        "period", "disposal_due", "legal_basis", "held", "holds"}. `parties`: the references a
        party hold may name it by (clearguard.declarations.disposal.party_keys)."""
        ...


class LedgerSink(Protocol):
    def append_many(self, session: Session, entries: Sequence[bytes]) -> int:
        """Sequence the entries inside the caller's transaction, in order; returns the first index
        (the rest follow it)."""
        ...


class AuditRecorder(Protocol):
    def record_many(self, session: Session, events: Sequence[NewAuditEvent]) -> object:
        """Audit events committed in the caller's transaction."""
        ...


class RiskAssessor(Protocol):
    def assess_declaration(
        self, session: Session, *, mrn: str, payload: dict[str, Any], findings: Sequence[Finding], fresh: bool = False
    ) -> RiskOutcome:
        """Score a lodged declaration (before its rows are inserted, so the status is final at once).
        `fresh`: the MRN was just made, so there is no earlier decision to keep."""
        ...

    def assess_declarations(
        self,
        session: Session,
        items: Sequence[tuple[str, dict[str, Any], Sequence[Finding]]],
        *,
        fresh: bool = False,
    ) -> list[RiskOutcome]:
        """assess_declaration of each (MRN, payload, findings), in order, in one call: bulk lodging
        scores a transaction's declarations at once."""
        ...


class OneByOne:
    """For an assessor that scores one declaration at a time: the batch method as a loop."""

    def assess_declaration(
        self, session: Session, *, mrn: str, payload: dict[str, Any], findings: Sequence[Finding], fresh: bool = False
    ) -> RiskOutcome:
        raise NotImplementedError

    def assess_declarations(
        self,
        session: Session,
        items: Sequence[tuple[str, dict[str, Any], Sequence[Finding]]],
        *,
        fresh: bool = False,
    ) -> list[RiskOutcome]:
        return [
            self.assess_declaration(session, mrn=mrn, payload=payload, findings=findings, fresh=fresh)
            for mrn, payload, findings in items
        ]
