"""Security staff's page data on both databases: alerts, triage through the detection service (its
no-self-triage rule), alerts over time."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from clearguard.errors import Forbidden, InputError
from clearguard.portal.boards import security
from tests.integration.api.app_env import PASSWORD, RealApp
from tests.integration.detection.env import client_from, detection_of, security_app, services_of
from tests.integration.portal.board_env import principal


@pytest.fixture
def real(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> RealApp:
    real = security_app(engine, database_url)
    monkeypatch.setattr(services_of(real).audit, "_clock", real.clock.now)
    return real


def spray(real: RealApp, username: str) -> None:
    for i in range(8):
        client = client_from(real, f"198.51.100.{i + 1}")
        r = client.post("/api/v1/auth/login", json={"username": username, "password": "wrong-" + PASSWORD})
        assert r.status_code == 401, r.text


def test_triage_lists_charts_and_refuses_self_triage(real: RealApp) -> None:
    detection = detection_of(real)
    spray(real, "auditor")
    [alert] = security.alerts(detection, "open")
    assert alert["actors"] == ["auditor"]
    bars = security.by_day([alert], real.clock.now().date())
    assert len(bars) == 14 and bars[-1].value == 1 and sum(b.value for b in bars) == 1
    me = principal(real, "secops")
    with pytest.raises(InputError) as caught:
        security.triage(detection, me, alert["id"], "confirm", "  ", source="portal-test")
    assert caught.value.field == "note"
    done = security.triage(detection, me, alert["id"], "acknowledge", "looking into it", source="portal-test")
    assert done["status"] == "acknowledged"
    assert security.alerts(detection, "open") == []
    with pytest.raises(InputError):
        security.alerts(detection, "closed")


def test_no_one_triages_an_alert_about_themselves(real: RealApp) -> None:
    detection = detection_of(real)
    spray(real, "secops")
    [alert] = security.alerts(detection, "open")
    with pytest.raises(Forbidden):
        security.triage(detection, principal(real, "secops"), alert["id"], "false_positive", "me", source="t")
    assert security.alerts(detection, "open")[0]["status"] == "open"
