"""AuditService: records events in the caller's transaction, enters each in the ledger as a salted
commitment, and answers the auditor's questions (by principal, record, time, party)."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Select, Table, select
from sqlalchemy.orm import Session

from clearguard.audit.models import AuditEventRow
from clearguard.db import utcnow
from clearguard.errors import InputError
from clearguard.ledger.commitment import commit_entry, commitment
from clearguard.ledger.verification import Erased

LEDGER_KIND = "audit.event"
AUDIT_EVENTS: Table = AuditEventRow.__table__  # type: ignore[assignment]
OUTCOMES = frozenset({"ok", "denied", "failed", "error"})


class LedgerSink(Protocol):
    def append(self, session: Session, entry: bytes) -> int: ...


@dataclass(frozen=True, slots=True)
class AuditEvent:
    event_id: str
    at: datetime
    actor: str
    role: str
    action: str
    record_type: str
    record_id: str | None
    party: str | None
    source: str | None
    justification: str | None
    outcome: str
    details: dict[str, Any] | None
    ledger_index: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "role": self.role,
            "action": self.action,
            "record_type": self.record_type,
            "record_id": self.record_id,
            "party": self.party,
            "source": self.source,
            "justification": self.justification,
            "outcome": self.outcome,
            "details": self.details,
            "ledger_index": self.ledger_index,
        }


@dataclass(frozen=True, slots=True)
class AuditQuery:
    actor: str | None = None
    record_type: str | None = None
    record_id: str | None = None
    party: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 10_000


def canonical_event(row: AuditEventRow) -> bytes:
    """The bytes the commitment covers: every field of the event, in a fixed JSON form."""
    body = {
        "event_id": row.event_id,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "role": row.role,
        "action": row.action,
        "record_type": row.record_type,
        "record_id": row.record_id,
        "party": row.party,
        "source": row.source,
        "justification": row.justification,
        "outcome": row.outcome,
        "details": row.details,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        row.event_id, row.at, row.actor, row.role, row.action, row.record_type, row.record_id, row.party,
        row.source, row.justification, row.outcome, row.details, row.ledger_index,
    )  # fmt: skip


def _required(value: str, name: str, limit: int) -> str:
    if not value or not value.strip() or len(value) > limit:
        raise InputError(f"{name}: required, at most {limit} characters", field=name)
    return value


class AuditService:
    def __init__(self, ledger: LedgerSink | None = None, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._ledger = ledger
        self._clock = clock

    def record(
        self,
        session: Session,
        *,
        actor: str,
        role: str,
        action: str,
        record_type: str,
        record_id: str | None,
        party: str | None,
        source: str | None,
        justification: str | None = None,
        outcome: str = "ok",
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """Adds one event in the caller's transaction (it commits or rolls back with the action)."""
        [event] = self.record_many(
            session,
            [dict(actor=actor, role=role, action=action, record_type=record_type, record_id=record_id,
                  party=party, source=source, justification=justification, outcome=outcome, details=details)],
        )  # fmt: skip
        return event

    def record_many(self, session: Session, events: Sequence[dict[str, Any]]) -> list[AuditEvent]:
        """Several events (keyword sets of `record`) in one go: one ledger sequencing and one flush,
        for bulk work such as importing thousands of declarations."""
        rows = [self._row(**event) for event in events]
        if self._ledger is not None and rows:
            entries = [commit_entry(LEDGER_KIND, row.event_id, canonical_event(row), row.salt) for row in rows]
            append_many = getattr(self._ledger, "append_many", None)
            if append_many is not None:
                first = int(append_many(session, entries))
                indices = list(range(first, first + len(entries)))
            else:
                indices = [self._ledger.append(session, entry) for entry in entries]
            for row, index in zip(rows, indices, strict=True):
                row.ledger_index = index
        if rows:
            # One multi-row Core insert: bulk lodging records thousands of events per transaction.
            columns = [c.key for c in AUDIT_EVENTS.columns if c.key != "id"]
            session.execute(AUDIT_EVENTS.insert(), [{c: getattr(row, c) for c in columns} for row in rows])
        return [_event(row) for row in rows]

    def _row(
        self,
        *,
        actor: str,
        role: str,
        action: str,
        record_type: str,
        record_id: str | None,
        party: str | None,
        source: str | None,
        justification: str | None = None,
        outcome: str = "ok",
        details: dict[str, Any] | None = None,
    ) -> AuditEventRow:
        if outcome not in OUTCOMES:
            raise InputError(f"outcome: one of {sorted(OUTCOMES)}", field="outcome")
        return AuditEventRow(
            event_id=uuid.uuid4().hex,
            # UTC with microseconds survives both databases unchanged, so the commitment recomputes.
            at=self._clock().astimezone(UTC),
            actor=_required(actor, "actor", 255),
            role=_required(role, "role", 64),
            action=_required(action, "action", 128),
            record_type=_required(record_type, "record_type", 64),
            record_id=record_id,
            party=party,
            source=source,
            justification=justification,
            outcome=outcome,
            details=json.loads(json.dumps(details)) if details is not None else None,
            salt=secrets.token_bytes(32),
        )

    # --- queries ---

    def query(self, session: Session, q: AuditQuery) -> list[AuditEvent]:
        stmt: Select[tuple[AuditEventRow]] = select(AuditEventRow)
        if q.actor is not None:
            stmt = stmt.where(AuditEventRow.actor == q.actor)
        if q.record_type is not None:
            stmt = stmt.where(AuditEventRow.record_type == q.record_type)
        if q.record_id is not None:
            stmt = stmt.where(AuditEventRow.record_id == q.record_id)
        if q.party is not None:
            stmt = stmt.where(AuditEventRow.party == q.party)
        if q.action is not None:
            stmt = stmt.where(AuditEventRow.action == q.action)
        if q.since is not None:
            stmt = stmt.where(AuditEventRow.at >= q.since)
        if q.until is not None:
            stmt = stmt.where(AuditEventRow.at < q.until)
        stmt = stmt.order_by(AuditEventRow.at, AuditEventRow.id).limit(q.limit)
        return [_event(row) for row in session.execute(stmt).scalars()]

    def by_principal(
        self, session: Session, actor: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[AuditEvent]:
        return self.query(session, AuditQuery(actor=actor, since=since, until=until))

    def by_record(self, session: Session, record_type: str, record_id: str) -> list[AuditEvent]:
        return self.query(session, AuditQuery(record_type=record_type, record_id=record_id))

    def by_time(self, session: Session, since: datetime, until: datetime | None = None) -> list[AuditEvent]:
        return self.query(session, AuditQuery(since=since, until=until))

    def who_accessed_party(self, session: Session, party: str) -> list[AuditEvent]:
        """Every event that touched the party's data (party as the owning capability's blind index)."""
        return self.query(session, AuditQuery(party=party))


class AuditCommitmentSource:
    """Plugs the audit trail into `ledger verify`: an edited, deleted, inserted or reordered audit
    row no longer matches the commitment entered for it, and is named by its ledger index."""

    kind = LEDGER_KIND

    def recompute(self, session: Session, entries: Sequence[tuple[int, str]]) -> dict[int, bytes | Erased]:
        indices = [idx for idx, _ in entries]
        rows = session.execute(select(AuditEventRow).where(AuditEventRow.ledger_index.in_(indices))).scalars()
        found: dict[int, bytes | Erased] = {}
        for row in rows:
            assert row.ledger_index is not None
            found[row.ledger_index] = commitment(LEDGER_KIND, row.event_id, canonical_event(row), row.salt)
        return found

    def ledger_indices(self, session: Session) -> dict[int, str]:
        rows = session.execute(
            select(AuditEventRow.ledger_index, AuditEventRow.event_id).where(AuditEventRow.ledger_index.is_not(None))
        )
        return {int(idx): event_id for idx, event_id in rows}
