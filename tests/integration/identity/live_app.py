"""The real application, wired by clearguard.wiring.build_services, over the test database, with a
frozen clock and cheap Argon2 parameters: in process (TestClient, one per source address) or served
by a real uvicorn on 127.0.0.1 for races of real concurrent requests.

Behind uvicorn every request states its source address in X-Forwarded-For, trusted from 127.0.0.1
as `uvicorn --proxy-headers` trusts a reverse proxy in production: so a race of requests from many
addresses is not held back by the (account, source) throttle and reaches the single-use checks.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from clearguard.access.roles import Role
from clearguard.app import create_app
from clearguard.audit.tables import AuditEventRow as AuditEvent
from clearguard.config import Settings
from clearguard.crypto import init_keys
from clearguard.db import transaction
from clearguard.identity import accounts, totp
from clearguard.identity.clock import FrozenClock
from clearguard.training import PRIVILEGED_ROLES
from clearguard.wiring import Services, build_services
from tests.helpers import give_training

PASSWORD = "plum-orbit-velvet-cascade-41"
T = TypeVar("T")


@dataclass
class Live:
    app: FastAPI
    services: Services
    clock: FrozenClock

    def add_user(self, username: str, role: str = "trader", party: str | None = "GB123456789000") -> int:
        with transaction(self.services.session_factory) as session:
            account = accounts.create_account(
                session,
                self.services.identity.passwords,
                username=username,
                role=role,
                password=PASSWORD,
                now=self.clock.now(),
                party_eori=party,
            )
            account_id = account.id
        if Role(role) in PRIVILEGED_ROLES:  # the gate refuses untrained staff's privileged actions
            give_training(self.services.session_factory, username, today=self.clock.now().date())
        return account_id

    def client(self, source: str) -> TestClient:
        """An in-process client whose requests come from `source`."""
        return TestClient(self.app, raise_server_exceptions=False, client=(source, 50000))

    def denials(self, action: str) -> int:
        with self.services.session_factory() as session:
            return int(
                session.scalar(select(func.count()).where(AuditEvent.action == action, AuditEvent.outcome == "denied"))
                or 0
            )


def make_live(engine: Engine, database_url: str, **overrides: Any) -> Live:
    settings = Settings(
        env="test",
        database_url=database_url,
        auth_argon2_time_cost=1,
        auth_argon2_memory_kib=8192,
        **overrides,
    )
    init_keys(settings)
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    services = build_services(settings, engine=engine, clock=clock)
    return Live(app=create_app(settings, services=services), services=services, clock=clock)


def wrong_code(secret: str, at: datetime) -> str:
    valid = {totp.code_at(secret, at + timedelta(seconds=d)) for d in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """A real uvicorn server for `app` on a free port of 127.0.0.1; its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", proxy_headers=True, forwarded_allow_ips="127.0.0.1", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


def race(count: int, request: Callable[[httpx.Client, int], T]) -> list[T]:
    """`count` requests released at the same instant, each on its own connection and thread."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        with httpx.Client(timeout=120) as client:
            barrier.wait()
            try:
                results[i] = request(client, i)
            except Exception as exc:  # reported by the caller's assertions
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return results


def source(i: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.{100 + i // 250}.{i % 250 + 1}"}
