"""The activity store: activity rows written beside their audit events, and read back in time order.
Parties and records go in as keyed references (blind indexes), never in clear."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Select, Table, select
from sqlalchemy.orm import Session

from clearguard.db import bulk_insert
from clearguard.detection.activity import (
    Activity,
    activity_action,
    activity_actor,
    activity_count,
    activity_outcome,
)
from clearguard.detection.context import RequestOrigin
from clearguard.detection.events import ActivityEvent
from clearguard.detection.tables import ActivityRow

ACTIVITY: Table = ActivityRow.__table__  # type: ignore[assignment]
_STORED = ("at", "actor", "role", "office", "action", "outcome", "source_ip", "user_agent", "record", "party",
           "count", "audit_event")  # fmt: skip


class BlindIndexer(Protocol):
    def blind_index(self, kind: str, value: str) -> str: ...


class AuditedEvent(Protocol):
    """What the store reads of an audit event (clearguard.audit.AuditEvent)."""

    @property
    def event_id(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def record_type(self) -> str: ...
    @property
    def record_id(self) -> str | None: ...
    @property
    def party(self) -> str | None: ...
    @property
    def source(self) -> str | None: ...
    @property
    def outcome(self) -> str: ...
    @property
    def details(self) -> dict[str, Any] | None: ...


def record_reference(indexer: BlindIndexer, record_type: str, record_id: str | None) -> str | None:
    """A declaration's MRN or an account's name as a keyed reference: the store can count distinct
    records per actor and join on them, but shows none of them."""
    if not record_id or record_id == "-":
        return None
    return indexer.blind_index("activity_record", f"{record_type}:{record_id}")


def party_reference(indexer: BlindIndexer, record_type: str, party: str | None) -> str | None:
    """Declarations record the party already as the EORI's blind index; an account event carries the
    account's EORI, which is indexed the same way here."""
    if not party:
        return None
    if record_type == "account":
        return indexer.blind_index("eori", party.strip().upper())
    return party


def from_audit(
    event: AuditedEvent,
    indexer: BlindIndexer,
    *,
    office_of: Callable[[str], str | None],
    origin: RequestOrigin | None,
) -> Activity | None:
    """The activity event an audit event stands for, or None for one outside the vocabulary."""
    action = activity_action(event.action, event.outcome)
    if action is None:
        return None
    actor = activity_actor(event.actor, event.details)
    source = event.source or (origin.source_ip if origin else None)
    return Activity(
        at=event.at,
        actor=actor,
        role=event.role,
        office=office_of(actor) if event.role not in ("anonymous", "system", "security") else None,
        action=action,
        outcome=activity_outcome(event.action, event.outcome),
        source_ip=source[:64] if source else None,
        user_agent=origin.user_agent if origin else None,
        record=record_reference(indexer, event.record_type, event.record_id),
        party=party_reference(indexer, event.record_type, event.party),
        count=activity_count(event.action, event.details),
        audit_event=event.event_id,
    )


def insert(session: Session, activities: Sequence[Activity]) -> None:
    if activities:
        bulk_insert(session, ACTIVITY, [asdict(a) for a in activities])


def _ip(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None  # "testclient", "unknown": no address to locate


def to_event(activity: Activity) -> ActivityEvent:
    return ActivityEvent(
        at=activity.at,
        actor=activity.actor,
        role=activity.role,
        office=activity.office,
        action=activity.action,
        outcome=activity.outcome,  # type: ignore[arg-type]
        source_ip=_ip(activity.source_ip),
        user_agent=activity.user_agent,
        record=activity.record,
        party=activity.party,
        count=activity.count,
    )


def _activity(row: ActivityRow) -> Activity:
    return Activity(*[getattr(row, name) for name in _STORED])


def query(
    session: Session,
    *,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
    newest_first: bool = True,
) -> list[Activity]:
    stmt: Select[tuple[ActivityRow]] = select(ActivityRow)
    if actor is not None:
        stmt = stmt.where(ActivityRow.actor == actor)
    if since is not None:
        stmt = stmt.where(ActivityRow.at >= since)
    if until is not None:
        stmt = stmt.where(ActivityRow.at < until)
    order = (ActivityRow.at.desc(), ActivityRow.id.desc()) if newest_first else (ActivityRow.at, ActivityRow.id)
    return [_activity(row) for row in session.execute(stmt.order_by(*order).limit(limit)).scalars()]


def replay(session: Session, since: datetime, *, limit: int) -> Iterator[Activity]:
    """The recent store, oldest first: what rebuilds the detector's state when a process starts."""
    stmt = select(ActivityRow).where(ActivityRow.at >= since).order_by(ActivityRow.at, ActivityRow.id).limit(limit)
    for row in session.execute(stmt).scalars():
        yield _activity(row)


def succeeded(session: Session, actor: str, since: datetime, until: datetime, sources: Sequence[str] = ()) -> bool:
    """Whether the actor did anything successfully in the window, from one of `sources` when the
    alert names any: a response is never taken on failures alone (else anyone could lock anyone
    out by failing to log in as them), nor on the victim's own work from its own address while
    someone else fails in its name."""
    stmt = (
        select(ActivityRow.id)
        .where(ActivityRow.actor == actor, ActivityRow.outcome == "success")
        .where(ActivityRow.at >= since, ActivityRow.at <= until)
    )
    if sources:
        stmt = stmt.where(ActivityRow.source_ip.in_(list(sources)))
    return session.execute(stmt.limit(1)).first() is not None
