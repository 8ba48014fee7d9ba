"""The Detector's windows live in the process; a new process rebuilds them from the recent activity
store: seven failures before a restart and one after make a brute force (and without the store's
history, one failure is nothing)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from clearguard.identity.errors import InvalidCredentials
from clearguard.wiring import build_services
from tests.integration.api.app_env import PASSWORD, RealApp
from tests.integration.detection.env import alerts, client_from, security_app, services_of


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    return security_app(engine, database_url)


def test_a_new_process_remembers_the_recent_activity(real: RealApp, engine: Engine) -> None:
    for i in range(7):
        r = client_from(real, f"198.51.100.{i + 1}").post(
            "/api/v1/auth/login", json={"username": "analyst", "password": "wrong-" + PASSWORD}
        )
        assert r.status_code == 401, r.text
    assert alerts(real, rule="brute_force_account") == []
    # Another process on the same database: its own services, its own (empty) Detector.
    other = build_services(services_of(real).settings, engine=engine)
    with pytest.raises(InvalidCredentials):
        other.identity.login("analyst", "wrong-" + PASSWORD, source="198.51.100.8")
    [alert] = alerts(real, rule="brute_force_account")
    assert alert.actors == ["analyst"] and alert.findings >= 1
    assert "8" in alert.explanation  # all eight failures counted, seven of them from the store


def test_without_the_store_history_the_same_failure_is_nothing(real: RealApp, engine: Engine) -> None:
    for i in range(7):
        client_from(real, f"198.51.100.{i + 1}").post(
            "/api/v1/auth/login", json={"username": "analyst", "password": "wrong-" + PASSWORD}
        )
    settings = services_of(real).settings.model_copy(update={"detection_warm_hours": 0})
    other = build_services(settings, engine=engine)
    with pytest.raises(InvalidCredentials):
        other.identity.login("analyst", "wrong-" + PASSWORD, source="198.51.100.8")
    assert alerts(real, rule="brute_force_account") == []
