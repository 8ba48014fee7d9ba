"""Rectification and erasure requests on both databases: deadlines, audit, refusals with the legal
reason, and erasure by crypto-shredding where nothing keeps the data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from clearguard.audit import AuditQuery
from clearguard.db import transaction
from clearguard.errors import Conflict, InputError
from clearguard.privacy.service import NO_POLICY, one_month_after
from tests.integration.privacy.env import DPO, Env, make_env

JANE = ("Jane Example", "1012 AB", "NL")


@pytest.fixture
def env(engine: Engine, database_url: str) -> Iterator[Env]:
    e = make_env(engine, database_url)
    yield e
    e.services.close()


def test_one_calendar_month() -> None:
    assert one_month_after(date(2026, 1, 31)) == date(2026, 2, 28)
    assert one_month_after(date(2028, 1, 31)) == date(2028, 2, 29)
    assert one_month_after(date(2026, 12, 15)) == date(2027, 1, 15)


def test_request_recorded_with_deadline_sealed_details_and_audit(env: Env) -> None:
    privacy = env.privacy()
    env.now[0] = datetime(2026, 1, 31, 9, tzinfo=UTC)
    added = privacy.add_request("rectification", privacy.person(*JANE), "my street is Acaciastraat 14", DPO)
    assert added["deadline"] == "2026-02-28" and added["status"] == "open"
    assert added["party_ref"].startswith("person:") and "details" not in added
    with transaction(env.services.session_factory) as session:
        assert privacy.open_request_parties(session) == {added["party_ref"]}
        [event] = env.services.audit.query(session, AuditQuery(action="privacy.request.add"))
        raw = session.connection().exec_driver_sql("SELECT * FROM privacy_requests").fetchall()
    assert event.party == added["party_ref"] and "Acaciastraat" not in str(event.to_dict())
    assert "Acaciastraat" not in str(raw) and "Jane" not in str(raw)  # sealed, and no identifier in clear
    env.now[0] = datetime(2026, 3, 1, tzinfo=UTC)
    [listed] = privacy.list_requests(DPO, overdue=True)
    assert listed["overdue"] and listed["details"] == "my street is Acaciastraat 14"
    with pytest.raises(InputError, match="outcome"):
        privacy.answer(added["id"], DPO)
    answered = privacy.answer(added["id"], DPO, outcome="address corrected by the declarant's amendment")
    assert answered["status"] == "answered" and answered["answered_by"] == "dora"
    assert privacy.list_requests(DPO, overdue=True) == []
    with transaction(env.services.session_factory) as session:
        assert privacy.open_request_parties(session) == set()
    with pytest.raises(Conflict):
        privacy.answer(added["id"], DPO, outcome="again")


def test_bad_kind_and_details_change_nothing(env: Env) -> None:
    privacy = env.privacy()
    with pytest.raises(InputError, match="kind"):
        privacy.add_request("forget-me", privacy.person(*JANE), "x", DPO)
    with pytest.raises(InputError, match="details"):
        privacy.add_request("erasure", privacy.person(*JANE), "  ", DPO)
    with pytest.raises(InputError, match="country"):
        privacy.person("Jane", "1012 AB", None)
    assert privacy.list_requests(DPO) == []


def test_erasure_refused_without_retention_policy(env: Env) -> None:
    env.h7("E-0")
    privacy = env.privacy(retention=False)
    added = privacy.add_request("erasure", privacy.person(*JANE), "erase me", DPO)
    answered = privacy.answer(added["id"], DPO)
    assert answered["status"] == "refused" and answered["legal_reason"] == NO_POLICY
    report = privacy.subject_access(privacy.person(*JANE), DPO)
    assert report["declarations"][0]["versions"][0]["document"]["consignee"]["name"] == "Jane Example"


def test_erasure_refused_within_retention_with_the_legal_reason(env: Env) -> None:
    mrn = env.h7("E-1")
    privacy = env.privacy()
    added = privacy.add_request("erasure", privacy.person(*JANE), "erase me", DPO)
    answered = privacy.answer(added["id"], DPO)
    assert answered["status"] == "refused"
    assert f"{mrn}: kept until" in answered["legal_reason"] and "UCC Art. 51" in answered["legal_reason"]


def test_erasure_refused_under_a_hold_even_after_retention(env: Env) -> None:
    env.h7("E-2")
    privacy = env.privacy()
    subject = privacy.person(*JANE)
    env.retention.hold(party_ref=subject.ref, reason="court case 12/2026")
    env.now[0] = datetime.now(UTC) + timedelta(days=6 * 366)
    answered = privacy.answer(privacy.add_request("erasure", subject, "erase me", DPO)["id"], DPO)
    assert answered["status"] == "refused" and "court case 12/2026" in answered["legal_reason"]


def test_erasure_carried_out_by_shredding_once_retention_is_over(env: Env) -> None:
    mrn = env.h7("E-3")
    privacy = env.privacy()
    subject = privacy.person(*JANE)
    env.now[0] = datetime.now(UTC) + timedelta(days=6 * 366)
    added = privacy.add_request("erasure", subject, "erase me", DPO)
    answered = privacy.answer(added["id"], DPO)
    assert answered["status"] == "carried_out" and answered["keys_shredded"] >= 1
    # Her values read as erased; nothing finds her by reference any more; the trader's part is intact.
    body = env.services.declarations.get(mrn).document
    assert body["consignee"] == "[erased]" or "[erased]" in str(body["consignee"])
    assert body["declarant"]["name"] == "ParcelCo Express B.V."
    assert privacy.subject_access(subject, DPO)["declarations"] == []
    [listed] = privacy.list_requests(DPO)
    assert listed["status"] == "carried_out" and listed["details"] == "[erased]"
    with transaction(env.services.session_factory) as session:
        events = env.services.audit.query(session, AuditQuery(action="privacy.request.answer"))
    assert events[-1].details == {"kind": "erasure", "status": "carried_out"}


def test_a_shred_listener_refusing_is_recorded_as_a_refusal(env: Env) -> None:
    class Hold:
        def party_shredded(self, session: Session, party_ref: str) -> None:
            raise Conflict("party: under legal hold 7 (customs audit)", field="party")

    env.h7("E-4")
    assert env.services.crypto is not None
    env.services.crypto.add_shred_listener(Hold())
    privacy = env.privacy()
    subject = privacy.person(*JANE)
    env.now[0] = datetime.now(UTC) + timedelta(days=6 * 366)
    answered = privacy.answer(privacy.add_request("erasure", subject, "erase me", DPO)["id"], DPO)
    assert answered["status"] == "refused" and "legal hold 7" in answered["legal_reason"]
    report = privacy.subject_access(subject, DPO)
    assert report["declarations"][0]["versions"][0]["document"]["consignee"]["name"] == "Jane Example"
