"""`clearguard serve --workers 3` on PostgreSQL with Redis, as an operator runs it, lodged into
concurrently through every worker.

Checked: every lodging answered 201 has its declaration, one ledger entry of its own and its audit
event; the ledger has no gap and no duplicate; one worker at a time holds the signer's duty, and when
it is killed (SIGKILL) another takes over while lodging goes on; the checkpoint history is one chain,
each checkpoint signed, larger than the one before and consistent with it; `ledger verify` passes.
Then a session ended in one worker (logout) or by an operator in another process (`users disable`)
is refused by every worker at once: no worker keeps a copy of a session.

Bounded: CLEARGUARD_SCALE_LODGINGS lodgings per phase (default 120, two phases; `make soak` more).
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench import cluster
from sqlalchemy import Engine, text

from clearguard import db
from clearguard.duties import advisory_key
from clearguard.ledger import verify_consistency
from clearguard.ledger.checkpoint import open_checkpoint
from clearguard.ledger.receipt import receipt_from_json
from tests.conftest import POSTGRES_URL_VAR

REDIS_URL = "redis://127.0.0.1:6379/15"
WORKERS = 3
THREADS = 16
LODGINGS = int(os.environ.get("CLEARGUARD_SCALE_LODGINGS", "120"))

pytestmark = pytest.mark.postgres


# ----------------------------------------------------------------------------- the cluster
@pytest.fixture
def schema_url() -> Iterator[tuple[str, str, Engine]]:
    """(url carrying a fresh schema, schema, engine on it); the schema is dropped afterwards."""
    base = os.environ.get(POSTGRES_URL_VAR)
    if not base:
        pytest.skip(f"{POSTGRES_URL_VAR} not set")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as exc:
        pytest.skip(f"redis unavailable: {exc}")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = db.make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    engine = db.make_engine(url)
    try:
        yield url, schema, engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _client_process(engine: Engine, backend_pid: int, candidates: list[int]) -> int | None:
    """The local process whose TCP connection the PostgreSQL backend `backend_pid` serves."""
    with engine.connect() as conn:
        port = conn.execute(
            text("SELECT client_port FROM pg_stat_activity WHERE pid = :pid"), {"pid": backend_pid}
        ).scalar()
    if port is None:
        return None
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    for pid in candidates:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return pid
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return None


def _signer(engine: Engine, schema: str, workers: list[int]) -> list[int]:
    """The worker processes holding the ledger-signer duty now (one, or none during a takeover)."""
    key = advisory_key("ledger-signer", schema) & 0xFFFF_FFFF_FFFF_FFFF
    with engine.connect() as conn:
        backends = (
            conn.execute(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
                    " AND classid::bigint = :high AND objid::bigint = :low"
                ),
                {"high": key >> 32, "low": key & 0xFFFF_FFFF},
            )
            .scalars()
            .all()
        )
    return [p for p in (_client_process(engine, b, workers) for b in backends) if p is not None]


def _until(predicate: Callable[[], Any], what: str, timeout_s: float = 300) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


# ----------------------------------------------------------------------------- lodging
def _lodge_all(base: str, token: str, docs: list[bytes]) -> list[tuple[int, dict[str, Any]]]:
    """Every document POSTed once by THREADS threads, each request on a new connection (so that the
    kernel hands them to every worker); every tenth waits for its signed receipt (?receipt=true)."""
    results: list[tuple[int, dict[str, Any]]] = [(0, {})] * len(docs)
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json", "Connection": "close"}

    def run(offset: int) -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            for i in range(offset, len(docs), THREADS):
                url = "/api/v1/declarations" + ("?receipt=true" if i % 10 == 0 else "")
                try:
                    r = client.post(url, content=docs[i], headers=headers)
                    results[i] = (r.status_code, r.json())
                except (httpx.HTTPError, ValueError) as exc:
                    results[i] = (-1, {"error": repr(exc)})

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    return results


def _requests_until_every_worker(
    base: str, token: str, workers: set[int], log: cluster.Cluster, expect: int
) -> dict[int, int]:
    """GET /api/v1/auth/me with `token` on fresh connections until each of `workers` has answered it;
    every answer must be `expect`. Returns the answers counted per worker."""
    seen: dict[int, int] = {}
    start = len(log.access_log())
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(300):
            r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}", "Connection": "close"})
            assert r.status_code == expect, r.text
            if expect != 200:
                assert r.headers["content-type"].startswith("application/problem+json")
            time.sleep(0.01)
            seen = {
                pid: n
                for pid, n in cluster.per_worker(log.access_log()[start:], "GET", "/api/v1/auth/me").items()
                if pid in workers
            }
            if set(seen) == workers:
                return seen
    raise AssertionError(f"not every worker answered: {seen} of {workers}")


def test_three_workers_lodge_sign_once_and_refuse_revoked_sessions(
    schema_url: tuple[str, str, Engine], tmp_path: Path
) -> None:
    url, schema, engine = schema_url
    env = cluster.environment(
        url,
        tmp_path / "var",
        REDIS_URL,
        auth_argon2_time_cost="1",
        auth_argon2_memory_kib="8192",
        # Redis is shared with other test runs on this machine: no limit from their traffic on 127.0.0.1.
        detection_edge_source_rate="1000000/10 seconds",
        detection_edge_principal_rate="1000000/10 seconds",
    )
    env["PYTHONUNBUFFERED"] = "1"  # the access log reaches the file as each request is answered
    lodger, leaver = f"lodger-{uuid.uuid4().hex[:8]}", f"leaver-{uuid.uuid4().hex[:8]}"
    secrets = cluster.prepare(env, [lodger, leaver])
    server = cluster.start(env, WORKERS, tmp_path / "serve.log")
    try:
        workers = server.wait_workers()
        assert len(workers) == WORKERS
        token = cluster.login(server.base, lodger, secrets[lodger])
        holder = _until(lambda: _signer(engine, schema, workers), "a worker takes the signer duty")
        assert len(holder) == 1 and holder[0] in workers

        # Phase 1: concurrent lodging through every worker.
        docs = cluster.documents(2 * LODGINGS, f"SC{uuid.uuid4().hex[:6]}")
        first = _lodge_all(server.base, token, docs[:LODGINGS])
        assert [s for s, _ in first] == [201] * LODGINGS, [b for s, b in first if s != 201][:3]
        served = cluster.per_worker(server.access_log(), "POST", "/api/v1/declarations")
        assert set(workers) <= set(served), f"lodgings per worker: {served}"
        assert _signer(engine, schema, workers) == holder, "the duty moved while its holder lived"

        # The signer dies without a word; another worker takes the duty; lodging goes on meanwhile.
        os.kill(holder[0], signal.SIGKILL)
        second = _lodge_all(server.base, token, docs[LODGINGS:])
        assert [s for s, _ in second] == [201] * LODGINGS, [b for s, b in second if s != 201][:3]
        survivors = [p for p in workers if p != holder[0]]
        successor = _until(
            lambda: [p for p in _signer(engine, schema, server.worker_pids()) if p != holder[0]],
            "another worker takes over the signer duty",
        )
        assert len(successor) == 1
        restarted = server.wait_workers()  # uvicorn replaces the killed worker
        assert holder[0] not in restarted and set(survivors) <= set(restarted)

        _until(lambda: _integrated(engine), "every sequenced entry integrated and signed")
        results = first + second
        _check_ledger(engine, results, env)

        # Revocation: a session ended anywhere is refused by every worker.
        current = set(server.wait_workers())
        leaving = cluster.login(server.base, leaver, secrets[leaver])
        _requests_until_every_worker(server.base, leaving, current, server, 200)
        with httpx.Client(base_url=server.base, timeout=30) as client:
            out = client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {leaving}"})
            assert out.status_code == 204, out.text
        _requests_until_every_worker(server.base, leaving, current, server, 401)
        _requests_until_every_worker(server.base, token, current, server, 200)
        disabled = cluster.cli(env, "users", "disable", lodger)
        assert disabled.returncode == 0, disabled.stderr
        _requests_until_every_worker(server.base, token, current, server, 401)
    finally:
        server.stop()
    assert server.process.returncode is not None


def _integrated(engine: Engine) -> bool:
    with engine.connect() as conn:
        sequenced = conn.execute(text("SELECT next_index FROM ledger_sequence")).scalar() or 0
        size = conn.execute(text("SELECT size FROM ledger_tree")).scalar() or 0
        latest = conn.execute(text("SELECT max(size) FROM ledger_checkpoints")).scalar() or 0
    return bool(sequenced) and sequenced == size == latest


def _check_ledger(engine: Engine, results: list[tuple[int, dict[str, Any]]], env: dict[str, str]) -> None:
    from clearguard.config import Settings
    from clearguard.wiring import build_ledger

    mrns = [body["mrn"] for _, body in results]
    assert len(set(mrns)) == len(results)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT d.mrn, v.ledger_index FROM declarations d"
                " JOIN declaration_versions v ON v.declaration_id = d.id AND v.version = 1"
            )
        ).all()
        by_mrn = {mrn: index for mrn, index in rows}
        lodged_events = conn.execute(
            text("SELECT count(*), count(DISTINCT ledger_index) FROM audit_events WHERE action = 'declaration.lodge'")
        ).one()
        entries = [int(i) for i in conn.execute(text("SELECT idx FROM ledger_entries ORDER BY idx")).scalars()]
        sequenced = int(conn.execute(text("SELECT next_index FROM ledger_sequence")).scalar_one())
        history = conn.execute(text("SELECT size, root, note, created_at FROM ledger_checkpoints")).all()
    # Every acknowledged lodging is there, with a ledger entry of its own and its audit event.
    assert set(mrns) <= set(by_mrn)
    indexes = [by_mrn[m] for m in mrns]
    assert None not in indexes and len(set(indexes)) == len(indexes)
    assert lodged_events[0] >= len(results) and lodged_events[1] == lodged_events[0]
    # No gap, no duplicate: the entries are exactly 0..sequenced-1.
    assert entries == list(range(sequenced))
    assert set(indexes) <= set(entries)

    settings = Settings(database_url=env["CLEARGUARD_DATABASE_URL"], var_dir=Path(env["CLEARGUARD_VAR_DIR"]))
    ledger = build_ledger(settings)
    # One chain: in the order they were signed, sizes strictly grow, each checkpoint is signed by the
    # log's key and consistent with the one before (no fork, whichever worker signed it).
    history = sorted(history, key=lambda row: (row.created_at, row.size))
    sizes = [row.size for row in history]
    assert sizes == sorted(set(sizes)) and sizes[-1] == sequenced
    factory = db.make_session_factory(engine)
    with factory() as session:
        for older, newer in itertools.pairwise(history):
            for row in (older, newer):
                checkpoint = open_checkpoint(row.note, [ledger.verifier], ledger.origin).checkpoint
                assert (checkpoint.size, checkpoint.root) == (row.size, bytes(row.root))
            proof = ledger.consistency_proof(session, older.size, newer.size)
            verify_consistency(older.size, newer.size, proof, bytes(older.root), bytes(newer.root))
    # The receipts that lodgings waited for (?receipt=true), from whichever worker, verify offline.
    waited = [body["receipt"] for _, body in results if body.get("receipt")]
    assert len(waited) >= len(results) // 10
    for receipt in waited:
        assert ledger.check_receipt(receipt_from_json(receipt)).checkpoint.size >= 1
    verified = cluster.cli(dict(env), "ledger", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("ok:"), verified.stdout
