"""Privacy API: DPO routes, a trader's own report, every route declaring one permission; and the
minimisation check: distinctive personal values appear in responses only for roles that may see
them, and never in logs."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import Engine

from clearguard.api.walker import undeclared
from tests.integration.api.app_env import PEOPLE, RealApp, make_real_app


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    return make_real_app(engine, database_url)


def test_every_route_declares_one_permission(real: RealApp) -> None:
    assert undeclared(real.client.app) == []  # type: ignore[arg-type]


def test_dpo_reports_and_requests(real: RealApp) -> None:
    mrn = real.seed("nl")
    dpo = real.auth("dpo")
    person = {"name": "Jane Example", "postcode": "1012 AB", "country": "NL"}
    r = real.client.post("/api/v1/privacy/subject-access", json={"person": person}, headers=dpo)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.json()["declarations"][0]["mrn"] == mrn
    r = real.client.post("/api/v1/privacy/subject-access", json={"person": person, "format": "pdf"}, headers=dpo)
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")
    r = real.client.post("/api/v1/privacy/subject-access", json={"party": "XX1"}, headers=dpo)
    assert r.status_code in (400, 422) and "party" in r.text
    r = real.client.post(
        "/api/v1/privacy/requests", json={"kind": "erasure", "person": person, "details": "erase"}, headers=dpo
    )
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    assert [x["id"] for x in real.client.get("/api/v1/privacy/requests", headers=dpo).json()] == [request_id]
    r = real.client.post(f"/api/v1/privacy/requests/{request_id}/answer", json={}, headers=dpo)
    assert r.status_code == 200 and r.json()["status"] == "refused"
    assert real.client.get("/api/v1/privacy/fields", headers=dpo).json()["fields"]
    assert "Art. 30(1)(a)" in real.client.get("/api/v1/privacy/records?format=md", headers=dpo).text
    for role in PEOPLE:
        if role != "dpo":
            assert real.client.get("/api/v1/privacy/fields", headers=real.auth(role)).status_code == 403, role


@pytest.mark.asvs("V8.2.2")
def test_a_trader_gets_only_its_own_report(real: RealApp) -> None:
    own = real.seed("gb")
    real.seed("nl")
    r = real.client.get("/api/v1/privacy/me/subject-access", headers=real.auth("trader"))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["subject"]["eori"] == "GB123456789000"
    assert [d["mrn"] for d in report["declarations"]] == [own]
    assert all(a["actor"] == a["role"] for a in report["accesses"] if a["role"] not in ("trader", "broker"))
    # The DPO route is not the trader's, and no query names another party.
    assert real.client.post("/api/v1/privacy/subject-access", json={"party": "NL812345678"},
                            headers=real.auth("trader")).status_code == 403  # fmt: skip
    r = real.client.get("/api/v1/privacy/me/subject-access?party=NL812345678", headers=real.auth("trader"))
    assert r.json()["subject"]["eori"] == "GB123456789000"
    for role in ("officer", "analyst", "auditor", "dpo", "admin", "partner"):
        status = real.client.get("/api/v1/privacy/me/subject-access", headers=real.auth(role)).status_code
        assert status == 403, role


DISTINCT = {"name": "Quirinus Zwartekoffie", "email": "quirinus.zk@example.org", "street": "Zonnebloemlaan 977"}


@pytest.mark.asvs("V15.3.1")
def test_minimisation_personal_values_only_where_the_role_may_see_them(
    real: RealApp, caplog: pytest.LogCaptureFixture
) -> None:
    doc = real.document("nl")
    doc["consignee"]["name"] = DISTINCT["name"]
    doc["consignee"]["contact"]["email"] = DISTINCT["email"]
    doc["consignee"]["address"]["street"] = DISTINCT["street"]
    caplog.set_level(logging.DEBUG)
    from clearguard.declarations.results import Actor

    mrn = real.declarations.lodge(doc, Actor("seed", "system", "test")).mrn
    seen: dict[str, bool] = {}
    for role in PEOPLE:
        headers = real.auth(role)
        bodies = [
            real.client.get(f"/api/v1/declarations/{mrn}", headers=headers).text,
            real.client.get("/api/v1/declarations", headers=headers).text,
        ]
        if role == "officer":  # another office: break-glass shows the full view to an officer
            why = {"X-Justification": "suspected smuggling ring, case 42"}
            bodies.append(real.client.get(f"/api/v1/declarations/{mrn}", headers=headers | why).text)
        seen[role] = any(v in body for body in bodies for v in DISTINCT.values())
    # Nobody in PEOPLE acts for the NL trader or works at its office: only the officer's audited
    # break-glass read opens it; the analyst's and auditor's views carry no personal value.
    assert {r for r, s in seen.items() if s} == {"officer"}
    # No log line (the server's access log included) carries any.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged and not any(v in logged for v in DISTINCT.values())
