"""Subject access (GDPR Art. 15) through PrivacyService on both databases: the subject's declarations
found by blind index and opened for the report only, cut to the subject, with every access, the
retention and holds; the report is itself audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from clearguard.audit import AuditQuery
from clearguard.db import transaction
from tests.integration.privacy.env import DPO, Env, make_env

JANE = ("Jane Example", "1012 AB", "NL")


@pytest.fixture
def env(engine: Engine, database_url: str) -> Iterator[Env]:
    e = make_env(engine, database_url)
    yield e
    e.services.close()


def test_person_report_holds_her_data_and_not_the_other_parties(env: Env) -> None:
    mrn = env.h7("JANE-1")
    env.h7("NAMESAKE-1", address={"street": "Elsewhere 1", "city": "Utrecht", "postcode": "3511 AA", "country": "NL"})
    privacy = env.privacy()
    # A read by an officer, so the report has an access to show.
    env.services.declarations.get(mrn, actor=__import__("clearguard.declarations.results", fromlist=["Actor"]).Actor(
        "olaf", "officer", "10.1.1.1", "queue work"))
    report = privacy.subject_access(privacy.person(*JANE), DPO)
    assert [d["mrn"] for d in report["declarations"]] == [mrn]  # the namesake in Utrecht is someone else
    [version] = report["declarations"][0]["versions"]
    assert version["roles"] == ["consignee"]
    assert version["document"]["consignee"]["contact"]["email"] == "jane@example.org"
    assert "declarant" not in version["document"] and "consignor" not in version["document"]
    assert version["withheld_parties"] == ["declarant", "consignor"]
    actions = [(a["actor"], a["action"]) for a in report["accesses"]]
    assert ("parcelco", "declaration.lodge") in actions and ("olaf", "declaration.read") in actions
    read = next(a for a in report["accesses"] if a["action"] == "declaration.read")
    assert read["source"] == "10.1.1.1" and read["justification"] == "queue work"
    [row] = report["retention"]
    assert row["policy"] == "eu-ucc-51" and row["disposal_due"].endswith("-12-31") and row["held"] is False
    assert report["holds"] == [] and report["recipients"]["partners"] == []
    assert {p["purpose"] for p in report["purposes"]} >= {"party-identification", "contact"}
    with transaction(env.services.session_factory) as session:
        [event] = env.services.audit.query(session, AuditQuery(action="privacy.subject-access"))
    assert event.party == report["subject"]["reference"] and event.actor == "dora"
    assert "Jane" not in str(event.to_dict())  # the trail names the subject by reference only


def test_trader_report_shows_its_own_declarations_whole(env: Env) -> None:
    mrn = env.h7("PC-1")
    privacy = env.privacy()
    report = privacy.subject_access(privacy.trader("NL812345678"), DPO)
    [declaration] = report["declarations"]
    assert declaration["mrn"] == mrn and declaration["roles"] == ["declarant"]
    document = declaration["versions"][0]["document"]
    assert document["consignee"]["name"] == "Jane Example" and document["invoice"]["amount"] == "42.90"


def test_without_retention_the_report_says_unknown(env: Env) -> None:
    env.h7("PC-2")
    privacy = env.privacy(retention=False)
    report = privacy.subject_access(privacy.person(*JANE), DPO)
    assert report["retention"][0]["retention"] == "unknown"
    assert report["retention_configured"] is False


def test_holds_are_reported(env: Env) -> None:
    mrn = env.h7("PC-3")
    env.retention.hold(mrn=mrn)
    privacy = env.privacy()
    report = privacy.subject_access(privacy.person(*JANE), DPO)
    assert report["retention"][0]["held"] is True
    assert report["holds"][0]["case"] == "APPEAL-1"


def test_html_and_pdf(env: Env) -> None:
    from clearguard.privacy.report import render

    env.h7("PC-4", name="<script>alert(1)</script> Żaneta")
    privacy = env.privacy()
    report = privacy.subject_access(privacy.person("<script>alert(1)</script> Żaneta", "1012 AB", "NL"), DPO)
    assert report["declarations"]
    html = render(report, "html").decode()
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "Żaneta" in html
    pdf = render(report, "pdf")
    assert pdf.startswith(b"%PDF-")
