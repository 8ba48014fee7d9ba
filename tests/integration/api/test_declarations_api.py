"""Declarations over HTTP: lodging with and without a waited receipt, the receipt route, events."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from clearguard.ledger.receipt import receipt_from_json, verify_receipt
from tests.integration.api.app_env import RealApp, make_real_app


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    return make_real_app(engine, database_url)


def test_lodging_returns_the_entry_and_a_receipt_link(real: RealApp) -> None:
    response = real.client.post("/api/v1/declarations", json=real.document("gb"), headers=real.auth("trader"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ledger_index"] is not None and body["receipt"] is None
    assert body["receipt_url"] == f"/api/v1/declarations/{body['mrn']}/receipt"
    fetched = real.client.get(body["receipt_url"], headers=real.auth("trader"))
    assert fetched.status_code == 200, fetched.text
    receipt = receipt_from_json(fetched.json())
    assert receipt.index == body["ledger_index"]
    app_ledger = real.client.app.state.ledger  # type: ignore[attr-defined]
    verify_receipt(receipt, [app_ledger.verifier], app_ledger.origin)
    # A trader may not even learn that another party's declaration exists.
    other = real.seed("nl")
    assert real.client.get(f"/api/v1/declarations/{other}/receipt", headers=real.auth("trader")).status_code == 404
    assert real.client.get(body["receipt_url"], headers=real.auth("admin")).status_code == 403


def test_waiting_for_the_receipt(real: RealApp) -> None:
    response = real.client.post(
        "/api/v1/declarations?receipt=true", json=real.document("gb"), headers=real.auth("trader")
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["receipt"]["index"] == body["ledger_index"]
    assert "checkpoint" in str(body["receipt"]).lower()


def test_declarants_see_events_without_officer_names(real: RealApp) -> None:
    mrn = real.seed("gb")
    trader_view = real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth("trader")).json()
    officer_view = real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth("officer")).json()
    assert trader_view["events"] and all("actor" not in e for e in trader_view["events"])
    assert all("actor" in e for e in officer_view["events"])
    assert [e["to"] for e in trader_view["events"]] == [e["to"] for e in officer_view["events"]]


@pytest.mark.asvs("V16.5.3")
def test_nul_in_a_login_or_a_declaration_is_a_422_not_a_500(real: RealApp) -> None:
    login = real.client.post("/api/v1/auth/login", json={"username": "acct\x00", "password": "x" * 12})
    assert login.status_code == 422, login.text
    doc = real.document("gb")
    doc["exporter"]["name"] = "Shenzhen\x00"
    lodged = real.client.post("/api/v1/declarations", json=doc, headers=real.auth("trader"))
    assert lodged.status_code == 422, lodged.text
    assert lodged.json()["findings"][0]["pointer"] == "/exporter/name"


def test_party_filter_that_is_no_eori_is_a_422_not_a_500(real: RealApp) -> None:
    """Found by schemathesis: the blind index refuses what is no EORI; the route refuses it first."""
    real.seed("gb")
    for bad in ("0A0", "GB-", "G\u00e9123"):
        r = real.client.get("/api/v1/declarations", params={"party": bad}, headers=real.auth("officer"))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    ok = real.client.get("/api/v1/declarations", params={"party": "gb123456789000"}, headers=real.auth("officer"))
    assert ok.status_code == 200, ok.text


def test_lodging_answer_shape_and_repeat(real: RealApp) -> None:
    doc = real.document("gb")
    first = real.client.post("/api/v1/declarations", json=doc, headers=real.auth("trader"))
    assert first.status_code == 201, first.text
    assert first.headers["content-type"] == "application/json"
    body = first.json()
    assert list(body) == [
        "mrn", "status", "channel", "version", "findings", "ledger_index", "receipt", "receipt_url"
    ]  # fmt: skip
    assert first.headers["location"] == f"/api/v1/declarations/{body['mrn']}"
    assert first.headers["cache-control"] == "no-store"
    again = real.client.post("/api/v1/declarations", json=doc, headers=real.auth("trader"))
    assert again.status_code == 200 and again.json()["mrn"] == body["mrn"]
