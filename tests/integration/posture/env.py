"""The real services over the test database (SQLite or PostgreSQL) with keys and a TLS certificate
under the test's var/, and the self-audit they wire; pip-audit is left out here (it has tests of
its own), so these runs stay offline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from clearguard.config import Settings
from clearguard.crypto import init_keys
from clearguard.crypto.tls import init_tls
from clearguard.db import transaction
from clearguard.identity import accounts
from clearguard.identity.tables import Account
from clearguard.posture import CheckResult, PostureService
from clearguard.wiring import Services, build_services

PASSWORD = "plum-orbit-velvet-cascade-41"


@dataclass
class AuditEnv:
    settings: Settings
    services: Services

    @property
    def posture(self) -> PostureService:
        assert self.services.posture is not None
        return self.services.posture

    def check(self, check_id: str) -> CheckResult:
        return next(c for c in self.posture.run().checks if c.id == check_id)

    def account(self, username: str, role: str, *, days_old: int = 0, mfa: bool = True, **kw: str) -> None:
        now = datetime.now(UTC) - timedelta(days=days_old)
        with transaction(self.services.session_factory) as session:
            made: Account = accounts.create_account(
                session,
                self.services.identity.passwords,
                username=username,
                role=role,
                password=PASSWORD,
                now=now,
                **kw,
            )
            made.totp_confirmed = mfa


def audit_env(engine: Engine, database_url: str) -> AuditEnv:
    settings = Settings(env="test", database_url=database_url, auth_argon2_time_cost=1, auth_argon2_memory_kib=8192)
    init_keys(settings)
    init_tls(settings.keys_dir)
    services = build_services(settings, engine=engine)
    assert services.posture is not None
    services.posture.sources.dependencies = None
    return AuditEnv(settings, services)
