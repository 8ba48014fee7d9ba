"""Crash harness: a ClearGuard instance run as an operator runs it (`clearguard init`, `clearguard
serve` over HTTPS with the instance's own CA, the CLI in subprocesses), killed with SIGKILL and
restarted, plus the SQL checks that say nothing was half-written.

The kills are random but reproducible: every random choice comes from one seed, printed by the test
(CLEARGUARD_CRASH_SEED sets it). The number of kills per test is CLEARGUARD_SOAK_KILLS (3 by
default; `make soak` asks for 20).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlparse

import httpx
from sqlalchemy import Engine, text

from clearguard.identity import totp
from clearguard.tables import metadata

CLEARGUARD = str(Path(sys.executable).with_name("clearguard"))
KILLS_VAR = "CLEARGUARD_SOAK_KILLS"
SEED_VAR = "CLEARGUARD_CRASH_SEED"
_HINT = re.compile(r"^\s+(\S+)\s+(\S+)\s+password (\S+)\s+totp (otpauth://\S+)$")


def kills() -> int:
    return int(os.environ.get(KILLS_VAR, "3"))


def seed() -> int:
    """The run's seed: CLEARGUARD_CRASH_SEED to replay a run, else a fresh one (printed by the test)."""
    chosen = os.environ.get(SEED_VAR)
    return int(chosen) if chosen else secrets.randbelow(2**32)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    password: str
    totp_secret: str


@dataclass
class Instance:
    """One installation: var/ under `folder`, the test's database, the CLI as a subprocess."""

    folder: Path
    url: str
    engine: Engine
    accounts: dict[str, Account] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env |= {
            "CLEARGUARD_DATABASE_URL": self.url,
            "CLEARGUARD_VAR_DIR": str(self.folder / "var"),
            # Cheap password hashing: the harness signs in a few accounts, it does not test Argon2.
            "CLEARGUARD_AUTH_ARGON2_TIME_COST": "1",
            "CLEARGUARD_AUTH_ARGON2_MEMORY_KIB": "8192",
            # A server that hangs can be made to print every thread's stack (SIGABRT) into its log.
            "PYTHONFAULTHANDLER": "1",
        }
        return env

    def cli(self, *args: str, code: int | None = 0, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [CLEARGUARD, *args], env=self.env, cwd=self.folder, capture_output=True, text=True, timeout=timeout
        )
        if code is not None:
            assert done.returncode == code, (
                f"clearguard {' '.join(args)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
            )
        return done

    def popen(self, *args: str, stdout: int | IO[Any], stderr: int | IO[Any]) -> subprocess.Popen[bytes]:
        # A session of its own, so a kill reaches every process the command started and nothing else.
        return subprocess.Popen(
            [CLEARGUARD, *args], env=self.env, cwd=self.folder, stdout=stdout, stderr=stderr, start_new_session=True
        )

    @property
    def ca(self) -> Path:
        return self.folder / "var" / "keys" / "tls" / "ca.pem"


def init_instance(url: str, engine: Engine, folder: Path) -> Instance:
    """`clearguard init` with the demo accounts, whose passwords and TOTP secrets it prints once."""
    folder.mkdir(parents=True, exist_ok=True)
    instance = Instance(folder, url, engine)
    output = instance.cli("init").stdout
    for line in output.splitlines():
        match = _HINT.match(line)
        if match:
            role, username, password, uri = match.groups()
            secret = parse_qs(urlparse(uri).query)["secret"][0]
            instance.accounts[username] = Account(username, role, password, secret)
    assert "demo-trader" in instance.accounts, output
    return instance


@dataclass
class Server:
    """`clearguard serve` on a free port of 127.0.0.1, HTTPS under the instance's CA."""

    instance: Instance
    port: int
    process: subprocess.Popen[bytes]
    log: IO[str]

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def client(self, timeout: float = 30) -> httpx.Client:
        # Trusts only the instance's own CA, as a client of this installation would be configured.
        return httpx.Client(
            base_url=self.base, verify=ssl.create_default_context(cafile=str(self.instance.ca)), timeout=timeout
        )

    def kill(self) -> None:
        """SIGKILL to the server's whole process group: no shutdown handler, no flush, no commit."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-4000:]


def start_server(instance: Instance, *, deadline_s: float = 120) -> Server:
    port = free_port()
    log = (instance.folder / f"server-{port}.log").open("w")
    process = instance.popen("serve", "--port", str(port), stdout=log, stderr=subprocess.STDOUT)
    server = Server(instance, port, process, log)
    deadline = time.monotonic() + deadline_s
    with server.client(timeout=5) as client:
        while True:
            try:
                if client.get("/health").status_code == 200:
                    return server
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise AssertionError(f"clearguard serve did not start:\n{server.output()}")
            time.sleep(0.2)


def sign_in(server: Server, account: Account) -> str:
    """Password, then the TOTP code; the bearer token (stored as a digest, it outlives a restart).
    A code is single-use, so a second sign-in in the same 30 s takes the next step's code."""
    with server.client() as client:
        r = client.post("/api/v1/auth/login", json={"username": account.username, "password": account.password})
        assert r.status_code == 200, r.text
        mfa_token = r.json()["mfa_token"]
        for step in (0, 30):
            code = totp.code_at(account.totp_secret, _now_utc(step))
            t = client.post("/api/v1/auth/mfa/totp", json={"mfa_token": mfa_token, "code": code})
            if t.status_code == 200:
                return str(t.json()["access_token"])
        raise AssertionError(f"{account.username}: TOTP refused: {t.text}")


def _now_utc(offset_s: int) -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(seconds=offset_s)


# ---------------------------------------------------------------------------------------- SQL checks


def ledger_columns() -> list[tuple[str, str]]:
    """(table, column) of every column that points at a ledger entry, in every capability's tables."""
    return sorted(
        (table.name, column.name)
        for table in metadata.tables.values()
        for column in table.columns
        if column.name == "ledger_index"
    )


def half_written(engine: Engine) -> list[str]:
    """Every way a lodging can be half-written, as SQL over the tables; [] when there is none.

    A declaration version without its ledger entry or audit event, or an audit event or ledger entry
    whose version is missing; entries with holes in their sequence; entries no row accounts for."""
    problems: list[str] = []
    checks = {
        "declaration without version 1": """
            SELECT d.mrn FROM declarations d
            WHERE NOT EXISTS (SELECT 1 FROM declaration_versions v WHERE v.declaration_id = d.id AND v.version = 1)""",
        "version without a ledger index": "SELECT declaration_id FROM declaration_versions WHERE ledger_index IS NULL",
        "version whose ledger entry is missing": """
            SELECT v.declaration_id FROM declaration_versions v
            LEFT JOIN ledger_entries e ON e.idx = v.ledger_index WHERE e.idx IS NULL""",
        "declaration without its lodging audit event": """
            SELECT d.mrn FROM declarations d WHERE NOT EXISTS (
              SELECT 1 FROM audit_events a
              WHERE a.action = 'declaration.lodge' AND a.record_type = 'declaration' AND a.record_id = d.mrn)""",
        "lodging audit event without its declaration": """
            SELECT a.record_id FROM audit_events a
            WHERE a.action = 'declaration.lodge'
              AND NOT EXISTS (SELECT 1 FROM declarations d WHERE d.mrn = a.record_id)""",
        "more than one lodging audit event": """
            SELECT record_id FROM audit_events WHERE action = 'declaration.lodge'
            GROUP BY record_id HAVING count(*) > 1""",
        "audit event whose ledger entry is missing": """
            SELECT a.event_id FROM audit_events a
            LEFT JOIN ledger_entries e ON e.idx = a.ledger_index
            WHERE a.ledger_index IS NOT NULL AND e.idx IS NULL""",
        "declaration without its lodging transition": """
            SELECT d.mrn FROM declarations d WHERE NOT EXISTS (
              SELECT 1 FROM declaration_events t WHERE t.declaration_id = d.id AND t.to_status = 'lodged')""",
        "declaration without its declarant's party row": """
            SELECT d.mrn FROM declarations d WHERE NOT EXISTS (
              SELECT 1 FROM declaration_parties p WHERE p.declaration_id = d.id AND p.role = 'declarant')""",
        "the same LRN stored twice for a declarant": """
            SELECT lrn FROM declarations GROUP BY declarant_index, lrn HAVING count(*) > 1""",
    }
    with engine.connect() as conn:
        for name, sql in checks.items():
            rows = conn.execute(text(sql)).all()
            if rows:
                problems.append(f"{name}: {len(rows)} (e.g. {rows[0][0]})")
        count, low, high = conn.execute(text("SELECT count(*), min(idx), max(idx) FROM ledger_entries")).one()
        sequenced = conn.execute(text("SELECT next_index FROM ledger_sequence")).scalar()
        if count and (low != 0 or high != count - 1):
            problems.append(f"ledger entries have holes: {count} entries from {low} to {high}")
        if (sequenced or 0) != count:
            problems.append(f"ledger sequence says {sequenced} entries, the table holds {count}")
        # The reverse: an entry that no row points at is a leaf whose record was never written.
        union = " UNION ALL ".join(
            f"SELECT {column} AS idx FROM {table} WHERE {column} IS NOT NULL" for table, column in ledger_columns()
        )
        orphans = conn.execute(
            text(f"SELECT e.idx FROM ledger_entries e WHERE e.idx NOT IN (SELECT idx FROM ({union}) AS used)")
        ).all()
        if orphans:
            problems.append(f"ledger entries no record points at: {len(orphans)} (e.g. {orphans[0][0]})")
    return problems


def stored(engine: Engine, lrns: list[str]) -> dict[str, str]:
    """LRN -> MRN for the given LRNs that are stored (the harness's LRNs are unique per run)."""
    found: dict[str, str] = {}
    with engine.connect() as conn:
        for start in range(0, len(lrns), 500):
            chunk = lrns[start : start + 500]
            params = {f"l{i}": lrn for i, lrn in enumerate(chunk)}
            names = ", ".join(f":{k}" for k in params)
            for lrn, mrn in conn.execute(text(f"SELECT lrn, mrn FROM declarations WHERE lrn IN ({names})"), params):
                found[lrn] = mrn
    return found


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("declarations", "declaration_versions", "declaration_parties", "ledger_entries")
        }


def signed_size(engine: Engine) -> int:
    """The size of the latest signed checkpoint."""
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT coalesce(max(size), 0) FROM ledger_checkpoints")).scalar_one())


def wait_integrated(engine: Engine, *, deadline_s: float = 60) -> int:
    """Waits until the restarted server's integrator has signed every sequenced entry; the size."""
    deadline = time.monotonic() + deadline_s
    while True:
        with engine.connect() as conn:
            sequenced = int(conn.execute(text("SELECT next_index FROM ledger_sequence")).scalar() or 0)
        size = signed_size(engine)
        if size >= sequenced:
            return size
        assert time.monotonic() < deadline, f"the restarted server left entries unsigned: {size} of {sequenced}"
        time.sleep(0.2)


def json_lines(stream: IO[bytes], into: list[dict[str, Any]], seen: threading.Event, at: list[float]) -> None:
    """Reads a child's JSON Lines as they come (a reader thread): each object into `into`, the moment
    it arrived into `at`, then sets `seen`."""
    for raw in iter(stream.readline, b""):
        at.append(time.monotonic())
        into.append(json.loads(raw))
        seen.set()


def verified_size(output: str) -> int:
    """The size `clearguard ledger verify` says it checked ("ok: N entries, ..."); fails otherwise."""
    match = re.match(r"ok: (\d+) entries", output)
    assert match, output
    return int(match.group(1))
