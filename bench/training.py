"""Training gate benchmark: what the per-request training check adds to a privileged request.

The real application (create_app over build_services, SQLite WAL in a temporary directory, or the
PostgreSQL of --database-url) serves an administrator with current data-protection training. The
same privileged request (GET /api/v1/training/completions?username=..., bearer token, permission
check) is timed in alternating rounds with the gate installed (app.state.training, as create_app
does) and with it removed (the baseline: everything else identical), in-process through the ASGI
test client, so the network does not hide the difference. Also times the gate alone (its one
indexed query) against the role check it follows. Prints per-request times, the added cost and the
ratio of rates.

    .venv/bin/python bench/training.py [--requests 300] [--rounds 5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PASSWORD = "bench-plum-orbit-velvet-cascade-41"


def build(workdir: Path, database_url: str | None) -> tuple[Any, Any, dict[str, str]]:
    from fastapi.testclient import TestClient

    from clearguard import migrate
    from clearguard.access.roles import Role
    from clearguard.app import create_app
    from clearguard.config import Settings
    from clearguard.crypto import init_keys
    from clearguard.db import transaction
    from clearguard.identity import accounts, totp
    from clearguard.wiring import build_services

    settings = Settings(
        env="test",
        database_url=database_url or f"sqlite:///{workdir / 'bench.db'}",
        var_dir=workdir / "var",
        detection_edge_enabled=False,  # the bench's own rate would trip the per-principal limit
        auth_argon2_time_cost=1,
        auth_argon2_memory_kib=8192,
    )
    init_keys(settings)
    services = build_services(settings)
    migrate.upgrade(services.engine)
    now = datetime.now(UTC)
    with transaction(services.session_factory) as session:
        account = accounts.create_account(
            session, services.identity.passwords, username="bench-admin", role=Role.ADMIN, password=PASSWORD, now=now
        )
        seed = totp.new_secret()
        services.identity.totp_secrets.put(account, seed)
        account.totp_confirmed = True
    assert services.training is not None
    services.training.record(
        "bench-admin", "data-protection", now.date(), now.date() + timedelta(days=365),
        by="bench", role="admin", source="bench", now=now,
    )  # fmt: skip
    app = create_app(settings, services=services)
    client = TestClient(app)
    step = client.post("/api/v1/auth/login", json={"username": "bench-admin", "password": PASSWORD}).json()
    token = client.post(
        "/api/v1/auth/mfa/totp", json={"mfa_token": step["mfa_token"], "code": totp.code_at(seed, now)}
    ).json()["access_token"]
    return app, client, {"Authorization": f"Bearer {token}"}


def _own_schema(url: str) -> tuple[str, Any]:
    """A schema of the bench's own on PostgreSQL (dropped afterwards), as the tests do, so that the
    database it is pointed at is left as it was."""
    import uuid

    from sqlalchemy import create_engine, text

    schema = f"bench_training_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}", drop


def timed_requests(client: Any, headers: dict[str, str], n: int) -> float:
    """Seconds per request over n requests."""
    start = time.perf_counter()
    for _ in range(n):
        r = client.get("/api/v1/training/completions", params={"username": "bench-admin"}, headers=headers)
        if r.status_code != 200:
            raise SystemExit(f"unexpected {r.status_code}: {r.text}")
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite in a temp dir)")
    args = parser.parse_args()

    from clearguard.access.principal import Principal
    from clearguard.access.roles import Perm, Role, holds

    url, drop = _own_schema(args.database_url) if args.database_url else (None, None)
    with tempfile.TemporaryDirectory() as tmp:
        app, client, headers = build(Path(tmp), url)
        gate = app.state.training
        timed_requests(client, headers, 50)  # warm-up: connections, caches, code paths
        gated: list[float] = []
        bare: list[float] = []
        for i in range(args.rounds):  # alternate, ABBA, so drift on a shared machine hits both alike
            for installed in (gate, None) if i % 2 == 0 else (None, gate):
                app.state.training = installed
                (gated if installed is not None else bare).append(timed_requests(client, headers, args.requests))
        app.state.training = gate

        principal = Principal(user_id=1, username="bench-admin", role=Role.ADMIN)
        now = datetime.now(UTC)
        n = args.requests * 3
        start = time.perf_counter()
        for _ in range(n):
            gate.gate(principal, Perm.TRAINING_READ, now)
        gate_alone = (time.perf_counter() - start) / n
        start = time.perf_counter()
        for _ in range(n):
            holds(principal.role, Perm.TRAINING_READ)
        role_check = (time.perf_counter() - start) / n
        app.state.services.close()
    if drop is not None:
        drop()

    database = "PostgreSQL" if args.database_url else "SQLite (WAL)"
    g, b = statistics.median(gated), statistics.median(bare)
    print(f"training gate, {database}, {args.rounds} alternating rounds of {args.requests} privileged requests")
    print(f"  with the gate     {g * 1e6:9.0f} us/request  ({1 / g:7.0f} requests/s)")
    print(f"  without (baseline){b * 1e6:9.0f} us/request  ({1 / b:7.0f} requests/s)")
    print(f"  added per request {(g - b) * 1e6:9.0f} us      rate ratio gated/baseline {b / g:.3f}")
    print(f"  the gate alone    {gate_alone * 1e6:9.0f} us/call    (role check alone {role_check * 1e6:.2f} us/call)")


if __name__ == "__main__":
    main()
