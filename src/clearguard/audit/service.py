"""AuditService: records events in the caller's transaction, enters each in the ledger as a salted
commitment, and answers the auditor's questions (by principal, record, time, party)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import Select, Table, func, select, update
from sqlalchemy.orm import Session

from clearguard.audit.tables import AuditEventRow
from clearguard.db import bulk_insert, utcnow
from clearguard.errors import InputError
from clearguard.ledger.commitment import LedgerEntry, commit_entries, commitment
from clearguard.ledger.verification import Disposed, Erased

LEDGER_KIND = "audit.event"
AUDIT_EVENTS: Table = AuditEventRow.__table__  # type: ignore[assignment]
OUTCOMES = frozenset({"ok", "denied", "failed", "error"})
# What json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False) builds on every
# call, built once: the same bytes.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_ID_BYTES = 16  # a version 4 UUID, as uuid.uuid4()
_SALT_BYTES = 32
_DISPOSED = "[disposed]"  # what a disposed event's actor reads as


class LedgerSink(Protocol):
    def append_many(self, session: Session, entries: Sequence[bytes]) -> int:
        """Sequences the entries in the caller's transaction; returns the first index (the rest
        follow in order)."""
        ...


class AuditObserver(Protocol):
    """Told of every event as it is recorded, inside the recording transaction (the port through
    which a higher layer, detection, keeps its own record of the same events: both commit or neither)."""

    def observe(self, session: Session, events: Sequence[AuditEvent]) -> None: ...


@dataclass(frozen=True, slots=True)
class NewAuditEvent:
    """What a caller gives to record one event: who did what to which record, from where and why. The
    one statement of an event's inputs; ids, time, salt and ledger index are added when recorded.
    `party` is the owning capability's blind index of the party, never its identifier in clear."""

    actor: str
    role: str
    action: str
    record_type: str
    record_id: str | None
    party: str | None
    source: str | None
    justification: str | None = None
    outcome: str = "ok"
    details: dict[str, Any] | None = None


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
    return _canonical(body)


_PLAIN = (str, int, bool, type(None))


def _flat(details: dict[str, Any]) -> bool:
    return all(type(k) is str and type(v) in _PLAIN for k, v in details.items())


def _canonical(body: dict[str, Any]) -> bytes:
    """json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(). For
    text, integers, booleans and nulls (an event's usual values) orjson writes the same bytes (keys
    in code point order, the same escapes; tests/unit/audit compares every code point), several
    times faster; anything else (floats, nesting) goes through json."""
    details = body["details"]
    if (details is None or (type(details) is dict and _flat(details))) and all(
        type(v) in _PLAIN for k, v in body.items() if k != "details"
    ):
        try:
            return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # an integer beyond 64 bits, a lone surrogate: json decides
            pass
    return _CANONICAL.encode(body).encode()


def _as_stored(details: dict[str, Any]) -> dict[str, Any]:
    """`details` as it reads back from the JSON column (json.loads(json.dumps(details))), so the
    commitment recomputes; a flat dict of text, integers, booleans and nulls is copied as it is."""
    if _flat(details):
        return dict(details)
    loaded: dict[str, Any] = json.loads(json.dumps(details))
    return loaded


def _event_id(raw: bytes) -> str:
    """uuid.UUID(bytes=raw, version=4).hex, without the object."""
    b = bytearray(raw)
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    return b.hex()


def _event(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        row.event_id, row.at, row.actor, row.role, row.action, row.record_type, row.record_id, row.party,
        row.source, row.justification, row.outcome, row.details, row.ledger_index,
    )  # fmt: skip


def _required(value: str, name: str, limit: int) -> str:
    if not value or not value.strip() or len(value) > limit:
        raise InputError(f"{name}: required, at most {limit} characters", field=name)
    return value


# The fields of an event the commitment covers (canonical_event), and AuditEvent's fields in order.
_BODY = ("event_id", "at", "actor", "role", "action", "record_type", "record_id", "party", "source",
         "justification", "outcome", "details")  # fmt: skip
_EVENT_FIELDS = (*_BODY, "ledger_index")


def _row(event: NewAuditEvent) -> dict[str, Any]:
    """The validated columns of one event (ids, time, salt and ledger index are added by record_many)."""
    if event.outcome not in OUTCOMES:
        raise InputError(f"outcome: one of {sorted(OUTCOMES)}", field="outcome")
    return {
        "actor": _required(event.actor, "actor", 255),
        "role": _required(event.role, "role", 64),
        "action": _required(event.action, "action", 128),
        "record_type": _required(event.record_type, "record_type", 64),
        "record_id": event.record_id,
        "party": event.party,
        "source": event.source,
        "justification": event.justification,
        "outcome": event.outcome,
        "details": _as_stored(event.details) if event.details is not None else None,
    }


class AuditService:
    def __init__(self, ledger: LedgerSink | None = None, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._ledger = ledger
        self._clock = clock
        self._observers: list[AuditObserver] = []

    def add_observer(self, observer: AuditObserver) -> None:
        """`observer` sees every event recorded from now on, in the recording transaction."""
        self._observers.append(observer)

    def record(self, session: Session, event: NewAuditEvent) -> AuditEvent:
        """Adds one event in the caller's transaction (it commits or rolls back with the action)."""
        [recorded] = self.record_many(session, [event])
        return recorded

    def record_many(self, session: Session, events: Sequence[NewAuditEvent]) -> list[AuditEvent]:
        """Several events in one go, sharing one timestamp: one ledger
        sequencing and one multi-row insert, for bulk work such as importing thousands of declarations."""
        if not events:
            return []
        at = self._clock().astimezone(UTC)
        # UTC with microseconds survives both databases unchanged, so the commitment recomputes.
        at_text = at.isoformat()
        step = _ID_BYTES + _SALT_BYTES
        randomness = os.urandom(step * len(events))  # what uuid.uuid4() and secrets.token_bytes() read
        rows: list[dict[str, Any]] = []
        canonicals: list[tuple[str, bytes, bytes]] = []
        for offset, event in zip(range(0, len(randomness), step), events, strict=True):
            row = _row(event)
            row["event_id"] = event_id = _event_id(randomness[offset : offset + _ID_BYTES])
            row["at"] = at
            row["salt"] = salt = randomness[offset + _ID_BYTES : offset + step]
            body = {k: row[k] for k in _BODY}
            body["at"] = at_text
            canonicals.append((event_id, _canonical(body), salt))
            rows.append(row)
        if self._ledger is not None:
            entries = commit_entries(LEDGER_KIND, canonicals)
            first = self._ledger.append_many(session, entries)
            indices: Sequence[int | None] = range(first, first + len(entries))
        else:
            indices = [None] * len(rows)
        for row, index in zip(rows, indices, strict=True):
            row["ledger_index"] = index
        # One driver-level executemany: bulk lodging records thousands of events per transaction.
        bulk_insert(session, AUDIT_EVENTS, rows)
        recorded = [AuditEvent(*[row[k] for k in _EVENT_FIELDS]) for row in rows]
        for observer in self._observers:
            observer.observe(session, recorded)
        return recorded

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

    def daily_counts(
        self, session: Session, actions: Collection[str], since: datetime, until: datetime | None = None
    ) -> dict[tuple[date, str], int]:
        """How many events of each action fell on each UTC day: what the portal charts decisions over
        time with. Only the time and action columns are read, never an event's contents."""
        stmt = select(AuditEventRow.at, AuditEventRow.action).where(
            AuditEventRow.action.in_(sorted(actions)), AuditEventRow.at >= since
        )
        if until is not None:
            stmt = stmt.where(AuditEventRow.at < until)
        counts: dict[tuple[date, str], int] = {}
        for at, action in session.execute(stmt):
            day = (at if at.tzinfo is None else at.astimezone(UTC)).date()
            counts[(day, action)] = counts.get((day, action), 0) + 1
        return counts

    def by_principal(
        self, session: Session, actor: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[AuditEvent]:
        return self.query(session, AuditQuery(actor=actor, since=since, until=until))

    def by_record(self, session: Session, record_type: str, record_id: str) -> list[AuditEvent]:
        return self.query(session, AuditQuery(record_type=record_type, record_id=record_id))

    def by_time(self, session: Session, since: datetime, until: datetime | None = None) -> list[AuditEvent]:
        return self.query(session, AuditQuery(since=since, until=until))

    def dispose_before(
        self,
        session: Session,
        *,
        before: datetime,
        run: int,
        keep_records: Collection[str] = (),
        keep_parties: Collection[str] = (),
        after_id: int = 0,
        limit: int = 5000,
    ) -> tuple[int, int | None]:
        """Retention: see dispose_events."""
        return dispose_events(
            session, before=before, run=run, keep_records=keep_records, keep_parties=keep_parties,
            after_id=after_id, limit=limit,
        )  # fmt: skip

    def disposed_events(self, session: Session) -> dict[int, datetime]:
        return disposed_events(session)

    def who_accessed_party(self, session: Session, party: str) -> list[AuditEvent]:
        """Every event that touched the party's data (party as the owning capability's blind index)."""
        return self.query(session, AuditQuery(party=party))


def dispose_events(
    session: Session,
    *,
    before: datetime,
    run: int,
    keep_records: Collection[str] = (),
    keep_parties: Collection[str] = (),
    after_id: int = 0,
    limit: int = 5000,
) -> tuple[int, int | None]:
    """Disposes of the events recorded before `before` (a retention run's cutoff) among the next
    `limit` after `after_id`, except those about the records or parties a hold keeps: the actor,
    source, justification, details and party are emptied and the run noted; the action, record and
    time stay, so the trail still says that something happened. Returns (how many went, the last id
    looked at, None when none was left)."""
    kept_records, kept_parties = set(keep_records), set(keep_parties)
    rows = session.execute(
        select(AuditEventRow.id, AuditEventRow.record_id, AuditEventRow.party)
        .where(AuditEventRow.at < before, AuditEventRow.disposal_run.is_(None), AuditEventRow.id > after_id)
        .order_by(AuditEventRow.id)
        .limit(limit)
    ).all()
    if not rows:
        return 0, None
    ids = [i for i, record, party in rows if record not in kept_records and party not in kept_parties]
    for start in range(0, len(ids), 500):
        session.execute(
            update(AuditEventRow)
            .where(AuditEventRow.id.in_(ids[start : start + 500]))
            .values(actor=_DISPOSED, source=None, justification=None, details=None, party=None, disposal_run=run)
            .execution_options(synchronize_session=False)
        )
    return len(ids), int(rows[-1][0])


def disposed_events(session: Session) -> dict[int, datetime]:
    """Run -> the latest time among the events it disposed of (verify checks it against the run's cutoff)."""
    return {
        int(run): at
        for run, at in session.execute(
            select(AuditEventRow.disposal_run, func.max(AuditEventRow.at))
            .where(AuditEventRow.disposal_run.is_not(None))
            .group_by(AuditEventRow.disposal_run)
        )
    }


class AuditCommitmentSource:
    """Plugs the audit trail into `ledger verify`: an edited, deleted, inserted or reordered audit
    row no longer matches the commitment entered for it, and is named by its ledger index."""

    kind = LEDGER_KIND

    def recompute(
        self, session: Session, entries: Sequence[tuple[int, LedgerEntry]]
    ) -> dict[int, bytes | Erased | Disposed]:
        indices = [idx for idx, _entry in entries]
        rows = session.execute(select(AuditEventRow).where(AuditEventRow.ledger_index.in_(indices))).scalars()
        found: dict[int, bytes | Erased | Disposed] = {}
        for row in rows:
            assert row.ledger_index is not None
            if row.disposal_run is not None:
                # Disposed of under its retention period; retention's source checks the run's cutoff.
                found[row.ledger_index] = Disposed(int(row.disposal_run))
                continue
            found[row.ledger_index] = commitment(LEDGER_KIND, row.event_id, canonical_event(row), row.salt)
        return found

    def ledger_indices(self, session: Session) -> list[tuple[int | None, str, str | None]]:
        # Every row, entered or not: the trail is written with its ledger entry, so a row without
        # one was added by hand.
        rows = session.execute(select(AuditEventRow.ledger_index, AuditEventRow.event_id))
        return [(None if idx is None else int(idx), event_id, event_id) for idx, event_id in rows]

    def consistency(self, session: Session) -> list[tuple[int | None, str]]:
        return []  # the trail is nothing but its records
