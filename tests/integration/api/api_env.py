"""API fixtures: an application with the shared plumbing and the auth routes, a frozen clock,
cheap Argon2 parameters, and helpers to log in as any role."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from clearguard.access.roles import Perm
from clearguard.api.install import install_api
from clearguard.api.security import PermissionRoute, require
from clearguard.config import Settings
from clearguard.db import transaction
from clearguard.identity import accounts, totp
from clearguard.identity.clock import FrozenClock
from clearguard.identity.routes import router as auth_router
from clearguard.identity.service import IdentityService
from clearguard.identity.throttle import DatabaseThrottle
from tests.helpers import secret_box

PASSWORD = "plum-orbit-velvet-cascade-41"


def api_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "auth_argon2_time_cost": 1,
        "auth_argon2_memory_kib": 8192,
        "max_request_bytes": 20_000,
    }
    values.update(overrides)
    return Settings(**values)


def build_app(factory: sessionmaker[Session], clock: FrozenClock, settings: Settings) -> FastAPI:
    app = FastAPI(title="ClearGuard test")
    identity = IdentityService(
        factory, settings, secret_box=secret_box(), clock=clock, throttle=DatabaseThrottle(factory, clock)
    )
    install_api(app, settings=settings, identity=identity)
    app.include_router(auth_router)

    from fastapi import APIRouter

    extra = APIRouter(route_class=PermissionRoute)

    @extra.get("/health", dependencies=[require(Perm.PUBLIC)])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @extra.post("/api/v1/echo")
    def echo(body: dict[str, Any], principal: Any = require(Perm.DECLARATIONS_READ)) -> dict[str, Any]:
        return body

    app.include_router(extra)
    return app


@dataclass
class Api:
    client: TestClient
    clock: FrozenClock
    factory: sessionmaker[Session]
    secrets: dict[str, str] = field(default_factory=dict)

    def add_user(self, username: str, role: str = "trader", **kw: Any) -> int:
        with transaction(self.factory) as session:
            account = accounts.create_account(
                session,
                identity(self.client).passwords,
                username=username,
                role=role,
                password=PASSWORD,
                now=self.clock.now(),
                **kw,
            )
            return account.id

    def login(self, username: str) -> dict[str, Any]:
        """Full login (enrolling TOTP on first use); returns the token response."""
        r = self.client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        mfa_token = r.json()["mfa_token"]
        if username not in self.secrets:
            e = self.client.post("/api/v1/auth/mfa/totp/enroll", json={"mfa_token": mfa_token})
            assert e.status_code == 200, e.text
            secret = e.json()["otpauth_uri"].split("secret=")[1].split("&")[0]
            self.secrets[username] = secret
            c = self.client.post(
                "/api/v1/auth/mfa/totp/confirm",
                json={"mfa_token": mfa_token, "code": totp.code_at(secret, self.clock.now())},
            )
            assert c.status_code == 200, c.text
            return dict(c.json())
        self.clock.advance(30)  # a fresh TOTP step: the last one is spent
        t = self.client.post(
            "/api/v1/auth/mfa/totp",
            json={"mfa_token": mfa_token, "code": totp.code_at(self.secrets[username], self.clock.now())},
        )
        assert t.status_code == 200, t.text
        return dict(t.json())

    def bearer(self, username: str) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.login(username)["access_token"]}


def identity(client: TestClient) -> IdentityService:
    service = client.app.state.identity  # type: ignore[attr-defined]
    assert isinstance(service, IdentityService)
    return service
