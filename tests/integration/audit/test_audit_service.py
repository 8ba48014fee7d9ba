"""AuditService with the ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from clearguard.audit import AuditQuery, AuditService, NewAuditEvent
from clearguard.audit.service import AuditCommitmentSource
from clearguard.errors import InputError
from clearguard.ledger.commitment import decode_entry
from clearguard.ledger.service import LedgerService


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def audit(ledger: LedgerService) -> AuditService:
    ledger.add_source(AuditCommitmentSource())
    return AuditService(ledger, clock=Clock())


def _seed(factory: sessionmaker[Session], audit: AuditService) -> None:
    events = [
        ("officer1", "officer", "declaration.read", "declaration", "26GB000000000001", "p-aaa", None),
        ("broker7", "broker", "declaration.lodge", "declaration", "26GB000000000002", "p-bbb", None),
        ("officer1", "officer", "declaration.export", "declaration", "26GB000000000002", "p-bbb", None),
        ("admin", "admin", "config.change", "config", "ledger_batch_size", None, None),
        ("officer2", "officer", "declaration.read", "declaration", "26GB000000000003", "p-aaa", "break-glass: INC-42"),
        ("mallory", "trader", "auth.login", "account", None, None, None),
    ]
    for actor, role, action, rtype, rid, party, why in events:
        with factory() as session, session.begin():
            audit.record(
                session,
                NewAuditEvent(
                    actor=actor,
                    role=role,
                    action=action,
                    record_type=rtype,
                    record_id=rid,
                    party=party,
                    source="10.0.0.5",
                    justification=why,
                    outcome="denied" if actor == "mallory" else "ok",
                    details={"fields": ["goods"]} if action.endswith("read") else None,
                ),
            )


@pytest.mark.asvs("V16.2.1", "V16.2.5")
def test_recorded_events_are_in_the_ledger_without_personal_data(
    session_factory: sessionmaker[Session], ledger: LedgerService, audit: AuditService
) -> None:
    _seed(session_factory, audit)
    ledger.integrate_all(session_factory)
    with session_factory() as session:
        events = audit.query(session, AuditQuery())
        assert [e.ledger_index for e in events] == list(range(6))
        for e in events:
            data = ledger.entry(session, e.ledger_index or 0)
            assert data is not None
            entry = decode_entry(data)
            assert entry.kind == "audit.event" and entry.record_id == e.event_id
            for secret in (e.actor, "10.0.0.5", "break-glass"):
                assert secret.encode() not in data
        assert ledger.verify(session).ok


@pytest.mark.asvs("V2.3.3")
def test_rolled_back_action_leaves_no_event_and_no_entry(
    session_factory: sessionmaker[Session], ledger: LedgerService, audit: AuditService
) -> None:
    with pytest.raises(RuntimeError), session_factory() as session, session.begin():
        audit.record(
            session,
            NewAuditEvent(
                actor="a",
                role="officer",
                action="declaration.release",
                record_type="declaration",
                record_id="x",
                party=None,
                source=None,
            ),
        )
        raise RuntimeError("the release itself failed")
    with session_factory() as session:
        assert audit.query(session, AuditQuery()) == []
        assert ledger.pending(session) == 0


def test_queries(session_factory: sessionmaker[Session], audit: AuditService) -> None:
    _seed(session_factory, audit)
    with session_factory() as session:
        assert [e.action for e in audit.by_principal(session, "officer1")] == ["declaration.read", "declaration.export"]
        assert {e.actor for e in audit.by_record(session, "declaration", "26GB000000000002")} == {"broker7", "officer1"}
        assert [e.actor for e in audit.who_accessed_party(session, "p-aaa")] == ["officer1", "officer2"]
        since = datetime(2026, 3, 1, 9, 3, tzinfo=UTC)
        assert len(audit.by_time(session, since)) == 4
        assert len(audit.by_time(session, since, since + timedelta(minutes=2))) == 2
        glass = audit.query(session, AuditQuery(actor="officer2"))[0]
        assert glass.justification == "break-glass: INC-42"
        assert audit.query(session, AuditQuery(actor="mallory"))[0].outcome == "denied"


def test_bad_input_refused(session_factory: sessionmaker[Session], audit: AuditService) -> None:
    with session_factory() as session, session.begin():
        with pytest.raises(InputError):
            audit.record(
                session,
                NewAuditEvent(
                    actor="", role="officer", action="x", record_type="y", record_id=None, party=None, source=None
                ),
            )
        with pytest.raises(InputError):
            audit.record(
                session,
                NewAuditEvent(
                    actor="a",
                    role="officer",
                    action="x",
                    record_type="y",
                    record_id=None,
                    party=None,
                    source=None,
                    outcome="maybe",
                ),
            )


@pytest.mark.asvs("V16.4.2")
@pytest.mark.parametrize("tamper", ["edit", "delete", "reorder", "insert"])
def test_tampered_audit_rows_named_by_ledger_verify(
    session_factory: sessionmaker[Session], ledger: LedgerService, audit: AuditService, tamper: str
) -> None:
    _seed(session_factory, audit)
    ledger.integrate_all(session_factory)
    with session_factory() as session, session.begin():
        if tamper == "edit":
            session.execute(text("UPDATE audit_events SET actor = 'someone-else' WHERE ledger_index = 2"))
            expected = 2
        elif tamper == "delete":
            session.execute(text("DELETE FROM audit_events WHERE ledger_index = 3"))
            expected = 3
        elif tamper == "reorder":
            # Swap two events' times: the order the trail shows is no longer the order committed.
            rows = session.execute(text("SELECT ledger_index, at FROM audit_events WHERE ledger_index IN (1, 4)"))
            times = {int(i): at for i, at in rows}
            session.execute(text("UPDATE audit_events SET at = :at WHERE ledger_index = 1"), {"at": times[4]})
            session.execute(text("UPDATE audit_events SET at = :at WHERE ledger_index = 4"), {"at": times[1]})
            expected = 1
        else:
            session.execute(
                text(
                    "INSERT INTO audit_events"
                    " (event_id, at, actor, role, action, record_type, outcome, salt, ledger_index)"
                    " SELECT 'z' || substr(event_id, 2), at, actor, role, action, record_type, outcome, salt, 5 + 100"
                    " FROM audit_events WHERE ledger_index = 5"
                )
            )
            expected = 105  # ('z' is not a hex digit, so the copy's id never equals a real one)
    with session_factory() as session:
        report = ledger.verify(session)
    assert not report.ok
    assert report.first_divergent_index == expected, report.problems


def test_reports(session_factory: sessionmaker[Session], audit: AuditService) -> None:
    from clearguard.audit.report import render

    _seed(session_factory, audit)
    with session_factory() as session, session.begin():
        audit.record(
            session,
            NewAuditEvent(
                actor="=cmd|' /C calc'!A0",
                role="trader",
                action="auth.login",
                record_type="account",
                record_id=None,
                party=None,
                source="<script>alert(1)</script>",
                outcome="failed",
            ),
        )
    with session_factory() as session:
        events = audit.by_time(session, datetime(2026, 1, 1, tzinfo=UTC))
    now = datetime(2026, 3, 2, tzinfo=UTC)
    data = json.loads(render(events, "json", generated_at=now, since=None))
    assert data["count"] == 7 and data["events"][4]["justification"] == "break-glass: INC-42"
    csv_text = render(events, "csv", generated_at=now, since=None)
    assert csv_text.splitlines()[0].startswith("at,event_id,actor")
    assert "'=cmd" in csv_text
    page = render(events, "html", generated_at=now, since=None)
    assert "<script>" not in page and "&lt;script&gt;" in page
    with pytest.raises(InputError):
        render(events, "xml", generated_at=now, since=None)


def test_bulk_events_each_get_a_verifiable_entry(
    session_factory: sessionmaker[Session], ledger: LedgerService, audit: AuditService
) -> None:
    events = [
        NewAuditEvent(actor="bench", role="system", action="declaration.lodge", record_type="declaration",
             record_id=f"26GB{n:014d}", party=None if n % 3 else f"p-{n}", source="cli", justification=None,
             details=[{"version": 1}, None, {"fields": ["goods", n], "ratio": n / 7}][n % 3])
        for n in range(300)
    ]  # fmt: skip
    with session_factory() as session, session.begin():
        recorded = audit.record_many(session, events[:120])
        recorded += audit.record_many(session, events[120:])
    assert [e.ledger_index for e in recorded] == list(range(300))
    assert len({e.event_id for e in recorded}) == 300
    ledger.integrate_all(session_factory)
    with session_factory() as session:
        stored = audit.query(session, AuditQuery())
        assert [(e.event_id, e.details, e.ledger_index) for e in stored] == [
            (e.event_id, e.details, e.ledger_index) for e in recorded
        ]
        assert ledger.verify(session).ok
    with session_factory() as session, session.begin():
        session.execute(text("UPDATE audit_events SET record_id = '26GB000000000000X' WHERE ledger_index = 202"))
    with session_factory() as session:
        report = ledger.verify(session)
    assert not report.ok and report.first_divergent_index == 202
