"""The real application for detection tests: make_real_app plus a signed-in security account, the
detection service acting through the test's identity service (its frozen clock), and clients that
come from chosen addresses."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from clearguard.access.roles import Role
from clearguard.db import transaction
from clearguard.detection.service import DetectionService
from clearguard.detection.tables import ActivityRow, AlertRow
from clearguard.identity import accounts, totp
from clearguard.wiring import Services
from tests.helpers import give_training
from tests.integration.api.app_env import PASSWORD, RealApp, make_real_app


def services_of(real: RealApp) -> Services:
    services = real.client.app.state.services  # type: ignore[attr-defined]
    assert isinstance(services, Services)
    return services


def detection_of(real: RealApp) -> DetectionService:
    service = services_of(real).detection
    assert service is not None
    return service


def security_app(engine: Engine, database_url: str) -> RealApp:
    real = make_real_app(engine, database_url)
    services = services_of(real)
    detection_of(real).accounts = services.identity  # the test's identity: its frozen clock
    with transaction(services.session_factory) as session:
        account = accounts.create_account(
            session, services.identity.passwords, username="secops", role=Role.SECURITY, password=PASSWORD,
            now=real.clock.now(),
        )  # fmt: skip
        seed = totp.new_secret()
        services.identity.totp_secrets.put(account, seed)
        account.totp_confirmed = True
        real.secrets["secops"] = seed
    give_training(services.session_factory, "secops", today=real.clock.now().date())
    real.tokens["secops"] = sign_in(real, real.client, "secops")
    return real


def sign_in(real: RealApp, client: TestClient, username: str, password: str = PASSWORD) -> str:
    real.clock.advance(seconds=31)  # a fresh TOTP step
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    code = totp.code_at(real.secrets[username], real.clock.now())
    t = client.post("/api/v1/auth/mfa/totp", json={"mfa_token": r.json()["mfa_token"], "code": code})
    assert t.status_code == 200, t.text
    return str(t.json()["access_token"])


def client_from(real: RealApp, address: str) -> TestClient:
    return TestClient(real.client.app, client=(address, 40000), raise_server_exceptions=False)


def alerts(real: RealApp, **where: Any) -> list[AlertRow]:
    with services_of(real).session_factory() as session:
        stmt = select(AlertRow)
        for name, value in where.items():
            stmt = stmt.where(getattr(AlertRow, name) == value)
        return list(session.execute(stmt.order_by(AlertRow.id)).scalars())


def activity_count(real: RealApp) -> int:
    with services_of(real).session_factory() as session:
        return int(session.execute(select(func.count()).select_from(ActivityRow)).scalar_one())
