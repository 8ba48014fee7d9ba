"""Identity fixtures: a service over the shared database fixtures, with a frozen clock and cheap
Argon2 parameters (the real cost is measured in test_passwords_cost)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from clearguard.config import Settings
from clearguard.db import transaction
from clearguard.identity import accounts
from clearguard.identity.clock import FrozenClock
from clearguard.identity.service import IdentityService
from clearguard.identity.throttle import DatabaseThrottle, Throttle
from tests.helpers import secret_box

PASSWORD = "plum-orbit-velvet-cascade-41"


def fast_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {"env": "test", "auth_argon2_time_cost": 1, "auth_argon2_memory_kib": 8192}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class Env:
    service: IdentityService
    clock: FrozenClock
    factory: sessionmaker[Session]

    def add_user(self, username: str = "alice", role: str = "trader", **kw: str) -> int:
        if role == "trader":
            kw.setdefault("party_eori", "GB123456789000")
        if role == "broker":
            kw.setdefault("party_eori", "GB999888777000")
        if role == "officer":
            kw.setdefault("office", "GB000085")
        with transaction(self.factory) as session:
            account = accounts.create_account(
                session,
                self.service.passwords,
                username=username,
                role=role,
                password=kw.pop("password", PASSWORD),
                now=self.clock.now(),
                **kw,
            )
            return account.id


def make_env(factory: sessionmaker[Session], throttle: Throttle | None = None) -> Env:
    clock = FrozenClock()
    service = IdentityService(
        factory,
        fast_settings(),
        secret_box=secret_box(),
        clock=clock,
        throttle=throttle or DatabaseThrottle(factory, clock),
    )
    return Env(service=service, clock=clock, factory=factory)
