"""The detection API is the security role's, and the security role has nothing else: least
privilege both ways. Bad triage input names the field and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.integration.api.app_env import RealApp
from tests.integration.detection.env import alerts, client_from, security_app

BASE = "/api/v1/detection"


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    return security_app(engine, database_url)


def test_only_the_security_role_reaches_detection(real: RealApp) -> None:
    secops = real.auth("secops")
    for path in (f"{BASE}/alerts", f"{BASE}/alerts?status=open&level=notice", f"{BASE}/activity?actor=officer"):
        assert real.client.get(path, headers=secops).status_code == 200, path
    for user in ("trader", "broker", "officer", "analyst", "auditor", "dpo", "admin", "partner"):
        for path in (f"{BASE}/alerts", f"{BASE}/activity"):
            assert real.client.get(path, headers=real.auth(user)).status_code == 403, (user, path)
        r = real.client.post(
            f"{BASE}/alerts/1/triage", json={"verdict": "confirm", "note": "x"}, headers=real.auth(user)
        )
        assert r.status_code == 403, (user, r.text)
    # ...and no declaration, ledger receipt, privacy or retention route for security staff.
    mrn = real.seed("gb")
    for path in ("/api/v1/declarations", f"/api/v1/declarations/{mrn}", "/api/v1/privacy/requests",
                 "/api/v1/retention/holds", "/ledger/receipts/1"):  # fmt: skip
        assert real.client.get(path, headers=secops).status_code == 403, path


def test_activity_shows_keyed_references_only(real: RealApp) -> None:
    mrn = real.seed("gb")
    assert real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth("officer")).status_code == 200
    r = real.client.get(f"{BASE}/activity", params={"actor": "officer"}, headers=real.auth("secops"))
    assert r.status_code == 200
    items = r.json()["activity"]
    read = next(a for a in items if a["action"] == "declaration.read")
    assert read["office"] == "GB000060" and read["outcome"] == "success" and read["record"]
    assert mrn not in r.text and "GB123456789000" not in r.text


def test_bad_triage_names_the_field(real: RealApp) -> None:
    for i in range(8):  # a brute force on the officer (from eight addresses) raises an alert to triage
        r = client_from(real, f"198.51.100.{i + 1}").post(
            "/api/v1/auth/login", json={"username": "officer", "password": "nope"}
        )
        assert r.status_code == 401, r.text
    [alert] = alerts(real, rule="brute_force_account") or [None]
    assert alert is not None
    secops = real.auth("secops")
    for body, field in [
        ({"verdict": "maybe", "note": "x"}, "verdict"),
        ({"verdict": "confirm", "note": ""}, "note"),
        ({"verdict": "confirm"}, "note"),
        ({"verdict": "confirm", "note": "x", "extra": 1}, "extra"),
    ]:
        r = real.client.post(f"{BASE}/alerts/{alert.id}/triage", json=body, headers=secops)
        assert r.status_code in (400, 422) and r.json()["detail"].startswith(field), r.text
    assert real.client.post(f"{BASE}/alerts/99999/triage", json={"verdict": "confirm", "note": "x"},
                            headers=secops).status_code in (401, 404)  # fmt: skip
    [unchanged] = alerts(real, rule="brute_force_account")
    assert unchanged.status == "open" and unchanged.notes == []
