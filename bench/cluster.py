"""A ClearGuard cluster on this machine, as an operator runs one: `clearguard init`, accounts with their
second factor enrolled, then `clearguard serve --workers N` on PostgreSQL with Redis. Shared by the
load benchmark (bench/load.py) and the scale-out test (tests/integration/scale/test_workers.py).

Everything is on loopback; every wait is bounded; `Cluster.stop` ends the server it started, by its
process id.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

PASSWORD = "scale-plum-orbit-velvet-cascade-41"
TRADER_EORI = "GB123456789000"
CLI = [sys.executable, "-c", "from clearguard.cli import main; main()"]
# "[pid] INFO: 127.0.0.1:5555 - "POST /api/v1/declarations HTTP/1.1" 201": the access log of a
# multi-worker server names the worker that answered.
ACCESS_LINE = re.compile(r'^\[(\d+)\].*"(GET|POST|PUT|DELETE|PATCH) (\S+) HTTP/[\d.]+" (\d{3})')


def environment(database_url: str, var_dir: Path, redis_url: str | None, **settings: str) -> dict[str, str]:
    """The environment every `clearguard` process of the cluster runs in (workers, CLI, init)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARGUARD_")}
    env["CLEARGUARD_DATABASE_URL"] = database_url
    env["CLEARGUARD_VAR_DIR"] = str(var_dir)
    if redis_url:
        env["CLEARGUARD_REDIS_URL"] = redis_url
    for name, value in settings.items():
        env[f"CLEARGUARD_{name.upper()}"] = value
    return env


def cli(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`clearguard ARGS` as an operator runs it, in the cluster's environment."""
    return subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False, cwd=env.get("HOME", "/")
    )


def prepare(env: dict[str, str], traders: Iterable[str], *, eori: str = TRADER_EORI) -> dict[str, str]:
    """`clearguard init --no-demo`, then one trader account per name (all of party `eori`) with TOTP
    enrolled; returns each account's TOTP secret."""
    done = cli(env, "init", "--no-demo")
    if done.returncode != 0:
        raise RuntimeError(f"clearguard init failed: {done.stderr or done.stdout}")
    from clearguard import db
    from clearguard.config import Settings
    from clearguard.crypto.setup import build_secret_box
    from clearguard.identity import accounts, totp
    from clearguard.identity.service import passwords_from
    from clearguard.identity.totp_secrets import TotpSecrets

    settings = Settings(
        database_url=env["CLEARGUARD_DATABASE_URL"],
        var_dir=Path(env["CLEARGUARD_VAR_DIR"]),
        auth_argon2_time_cost=int(env.get("CLEARGUARD_AUTH_ARGON2_TIME_COST", "3")),
        auth_argon2_memory_kib=int(env.get("CLEARGUARD_AUTH_ARGON2_MEMORY_KIB", "65536")),
    )
    engine = db.make_engine(settings.database_url)
    secrets: dict[str, str] = {}
    try:
        with db.transaction(db.make_session_factory(engine)) as session:
            for name in traders:
                account = accounts.create_account(
                    session,
                    passwords_from(settings),
                    username=name,
                    role="trader",
                    password=PASSWORD,
                    now=datetime.now(UTC),
                    party_eori=eori,
                )
                secret = totp.new_secret()
                TotpSecrets(build_secret_box(settings)).put(account, secret)
                account.totp_confirmed = True
                secrets[name] = secret
    finally:
        engine.dispose()
    return secrets


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    process: subprocess.Popen[bytes]
    base: str
    workers: int
    log: Path
    env: dict[str, str] = field(repr=False)

    def worker_pids(self) -> list[int]:
        """The worker processes uvicorn spawned (not its resource tracker); a single worker is the
        server process itself."""
        if self.workers == 1:
            return [self.process.pid] if self.process.poll() is None else []
        found = []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        for pid in children.read_text().split():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"spawn_main" in cmdline:
                found.append(int(pid))
        return sorted(found)

    def wait_workers(self, count: int | None = None, timeout_s: float = 300) -> list[int]:
        """The worker pids once `count` (default: all) are up and the server answers."""
        wanted = self.workers if count is None else count
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited ({self.process.returncode}): {self.log.read_text()[-2000:]}")
            pids = self.worker_pids()
            if len(pids) >= wanted and _healthy(self.base):
                return pids
            time.sleep(0.2)
        raise RuntimeError(f"{wanted} workers not up within {timeout_s} s: {self.log.read_text()[-2000:]}")

    def access_log(self) -> list[tuple[int, str, str, int]]:
        """(worker pid, method, path, status) of every request answered so far."""
        out = []
        for line in self.log.read_text(errors="replace").splitlines():
            match = ACCESS_LINE.match(line)
            if match:
                out.append((int(match[1]), match[2], match[3], int(match[4])))
        return out

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)


def start(env: dict[str, str], workers: int, log: Path, *, port: int | None = None) -> Cluster:
    """`clearguard serve --workers N --insecure-http` on a free loopback port, its output in `log`."""
    port = port or free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*CLI, "serve", "--insecure-http", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    cluster = Cluster(process, f"http://127.0.0.1:{port}", workers, log, env)
    try:
        cluster.wait_workers()
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _healthy(base: str) -> bool:
    try:
        return httpx.get(base + "/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def login(base: str, username: str, secret: str) -> str:
    """A bearer token: password, then a TOTP code of the current step (one login per account and step)."""
    from clearguard.identity import totp

    with httpx.Client(base_url=base, timeout=60) as client:
        r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        r.raise_for_status()
        t = client.post(
            "/api/v1/auth/mfa/totp",
            json={"mfa_token": r.json()["mfa_token"], "code": totp.code_at(secret, datetime.now(UTC))},
        )
        t.raise_for_status()
    return str(t.json()["access_token"])


def documents(count: int, prefix: str, *, eori: str = TRADER_EORI, seed: int = 7) -> list[bytes]:
    """`count` valid declarations of party `eori` with distinct LRNs `<prefix>-<n>`."""
    from clearguard.declarations.samples import generate

    out = []
    for n, doc in enumerate(generate(count, seed=seed, h7_share=0.3)):
        doc["declarant"]["eori"] = eori
        doc["lrn"] = f"{prefix}-{n:07d}"
        out.append(json.dumps(doc).encode())
    return out


def per_worker(lines: Sequence[tuple[int, str, str, int]], method: str, path: str) -> dict[int, int]:
    counts: dict[int, int] = {}
    for pid, m, p, _status in lines:
        if m == method and p.split("?")[0] == path:
            counts[pid] = counts.get(pid, 0) + 1
    return counts
