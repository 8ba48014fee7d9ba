"""The auditor's view: search of the audit trail, decisions over time, and the ledger's state and a
full verification (what `clearguard ledger verify` does).

A search reads who did what (staff are data subjects too), so each search is itself an audit event,
naming the filters used but not their values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from clearguard.access.principal import Principal
from clearguard.audit.service import AuditEvent, AuditQuery, AuditService, NewAuditEvent
from clearguard.db import transaction
from clearguard.errors import InputError
from clearguard.ledger.service import LedgerService
from clearguard.ledger.verification import VerifyReport
from clearguard.portal.charts import Bar

SEARCH_LIMIT = 200
DECISIONS = ("declaration.decision.release", "declaration.decision.hold", "declaration.decision.reject")
_TEXT_MAX = 255


@dataclass(frozen=True, slots=True)
class SearchForm:
    actor: str | None = None
    action: str | None = None
    record_type: str | None = None
    record_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def used(self) -> list[str]:
        return sorted(k for k in ("actor", "action", "record_type", "record_id", "since", "until") if getattr(self, k))


def _text(name: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) > _TEXT_MAX or any(ord(ch) < 32 for ch in text):
        raise InputError(f"{name}: at most {_TEXT_MAX} printable characters", field=name)
    return text


def _day(name: str, value: str | None) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        return datetime.combine(date.fromisoformat(value.strip()), datetime.min.time(), tzinfo=UTC)
    except ValueError:
        raise InputError(f"{name}: a date as YYYY-MM-DD", field=name) from None


def parse_search(
    actor: str | None, action: str | None, record_type: str | None, record_id: str | None,
    since: str | None, until: str | None,
) -> SearchForm:  # fmt: skip
    """The search form's fields; `until` is inclusive (the whole day)."""
    end = _day("until", until)
    form = SearchForm(
        _text("actor", actor), _text("action", action), _text("record_type", record_type),
        _text("record_id", record_id), _day("since", since), end + timedelta(days=1) if end else None,
    )  # fmt: skip
    if form.since and form.until and form.since >= form.until:
        raise InputError("since: must be on or before until", field="since")
    return form


def search(
    audit: AuditService, factory: sessionmaker[Session], principal: Principal, form: SearchForm, *, source: str
) -> list[AuditEvent]:
    """The newest matching events first (at most SEARCH_LIMIT), with the search audited in the same
    transaction."""
    query = AuditQuery(
        actor=form.actor, action=form.action, record_type=form.record_type, record_id=form.record_id,
        since=form.since, until=form.until, limit=100_000,
    )  # fmt: skip
    with transaction(factory) as session:
        found = audit.query(session, query)
        audit.record(
            session,
            NewAuditEvent(
                actor=principal.username, role=principal.role.value, action="audit.search", record_type="audit",
                record_id=None, party=None, source=source,
                details={"filters": ",".join(form.used()) or "none", "returned": min(len(found), SEARCH_LIMIT)},
            ),
        )  # fmt: skip
    return list(reversed(found[-SEARCH_LIMIT:]))


def decisions_by_day(
    audit: AuditService, factory: sessionmaker[Session], today: date, *, days: int = 14
) -> dict[str, list[Bar]]:
    """Officers' decisions per day over the last `days` days (today included), one series per kind."""
    start = today - timedelta(days=days - 1)
    with factory() as session:
        counts = audit.daily_counts(session, DECISIONS, datetime.combine(start, datetime.min.time(), tzinfo=UTC))
    series: dict[str, list[Bar]] = {}
    for action in DECISIONS:
        kind = action.rsplit(".", 1)[1]
        series[kind] = [
            Bar(
                (start + timedelta(days=i)).strftime("%d %b"), float(counts.get((start + timedelta(days=i), action), 0))
            )
            for i in range(days)
        ]
    return series


def total_bars(series: dict[str, list[Bar]]) -> list[Bar]:
    """All kinds summed per day."""
    days = zip(*series.values(), strict=True)
    return [Bar(group[0].label, sum(b.value for b in group)) for group in days]


@dataclass(frozen=True, slots=True)
class LedgerState:
    origin: str | None
    size: int
    root: str | None
    pending: int
    key: str
    note: str | None


def ledger_state(ledger: LedgerService, factory: sessionmaker[Session]) -> LedgerState:
    with factory() as session:
        latest = ledger.latest(session)
        pending = ledger.pending(session)
        note = ledger.latest_note(session)
    if latest is None:
        return LedgerState(None, 0, None, pending, ledger.vkey(), None)
    checkpoint = latest.checkpoint
    return LedgerState(checkpoint.origin, checkpoint.size, checkpoint.root.hex(), pending, ledger.vkey(), note)


def verify(
    ledger: LedgerService, audit: AuditService, factory: sessionmaker[Session], principal: Principal, *, source: str
) -> VerifyReport:
    """Recomputes the whole log as `ledger verify` does; the run and its result are audited."""
    with factory() as session:
        report = ledger.verify(session)
    with transaction(factory) as session:
        audit.record(
            session,
            NewAuditEvent(
                actor=principal.username, role=principal.role.value, action="ledger.verify", record_type="ledger",
                record_id=None, party=None, source=source, outcome="ok" if report.ok else "problems",
                details={"size": report.size, "problems": len(report.problems)},
            ),
        )  # fmt: skip
    return report
