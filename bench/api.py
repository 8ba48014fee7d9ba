"""API benchmark: lodging through the HTTP API as an authenticated trader versus a bare FastAPI
endpoint that parses and inserts the same JSON with no security.

Both servers are the same uvicorn (one process each, loopback, SQLite WAL in a temporary
directory), driven by the same client (keep-alive connections, --clients threads) with the same
generated declarations. The secure path does everything a real request does: bearer token lookup,
permission and ownership checks, strict parsing, compliance rules, MRN, protected-field sealing,
ledger entry, audit event and risk channel. Prints both rates and the ratio (target >= 0.33).

    .venv/bin/python bench/api.py [--count 2000] [--clients 4]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import Request  # module level: the endpoints' string annotations resolve here

from clearguard.access.principal import Principal

TRADER_EORI = "GB123456789000"
PASSWORD = "bench-plum-orbit-velvet-cascade-41"


# ----------------------------------------------------------------------------- servers
def secure_app(workdir: Path) -> Any:
    from clearguard.app import create_app
    from clearguard.config import Settings

    return create_app(Settings(database_url=f"sqlite:///{workdir / 'secure.db'}", var_dir=workdir / "var"))


def bare_app(workdir: Path, *, guarded: bool = False) -> Any:
    """Parse with the same pydantic models, insert the document: no auth, rules, ledger or audit.

    `guarded` puts only the identity and access layer in front of the same work: the shared API
    plumbing (problem handlers, security headers, body limit), bearer-token authentication, the
    `declarations:lodge` permission and the lodge-for-own-party check. Its rate against the bare one
    is what security itself costs, apart from the lifecycle (rules, sealing, ledger, audit)."""
    from fastapi import APIRouter, FastAPI
    from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, insert

    from clearguard import db
    from clearguard.declarations.parse import to_model

    engine = db.make_engine(f"sqlite:///{workdir / ('guarded.db' if guarded else 'bare.db')}")
    meta = MetaData()
    table = Table(
        "declarations", meta, Column("id", Integer, primary_key=True), Column("lrn", String(22)), Column("doc", JSON)
    )
    meta.create_all(engine)
    app = FastAPI()
    router = APIRouter()

    def insert_doc(body: bytes) -> dict[str, Any]:
        model = to_model(json.loads(body))
        assert not isinstance(model, list)
        with engine.begin() as conn:
            new_id = conn.execute(
                insert(table).values(lrn=model.lrn, doc=model.model_dump(mode="json"))
            ).inserted_primary_key
        return {"id": new_id[0] if new_id else None}

    if guarded:
        from clearguard.access.policy import authorize_lodge
        from clearguard.access.roles import Perm
        from clearguard.api.install import install_api
        from clearguard.api.security import PermissionRoute, require
        from clearguard.config import Settings
        from clearguard.wiring import build_services

        settings = Settings(database_url=f"sqlite:///{workdir / 'secure.db'}", var_dir=workdir / "var")
        identity = build_services(settings).identity
        install_api(app, settings=settings, identity=identity)
        router = APIRouter(route_class=PermissionRoute)
        # A default, not Annotated: this module's annotations are strings, resolved in its globals.
        lodger = require(Perm.DECLARATIONS_LODGE)

        @router.post("/bare", status_code=201)
        async def guarded_lodge(request: Request, principal: Principal = lodger) -> dict[str, Any]:
            body = await request.body()
            authorize_lodge(principal, json.loads(body)["declarant"]["eori"], identity.clock.now().date())
            return insert_doc(body)

    else:

        @router.post("/bare", status_code=201)
        async def lodge(request: Request) -> dict[str, Any]:
            return insert_doc(await request.body())

    @router.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(router)
    return app


def serve(kind: str, workdir: Path, port: int) -> None:
    import uvicorn

    app = secure_app(workdir) if kind == "secure" else bare_app(workdir, guarded=kind == "guarded")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def start_server(kind: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--workdir", str(workdir), "--port", str(port)],
        env=dict(
            os.environ,
            CLEARGUARD_DATABASE_URL=f"sqlite:///{workdir / 'secure.db'}",
            CLEARGUARD_VAR_DIR=str(workdir / "var"),
        ),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{kind} server did not start")


# ----------------------------------------------------------------------------- setup
def prepare_secure_db(workdir: Path) -> str:
    """`clearguard init` (keys, schema; no demo data) and a trader account with TOTP already
    enrolled; returns its TOTP secret."""
    from clearguard import db
    from clearguard.config import Settings
    from clearguard.crypto.setup import build_secret_box
    from clearguard.identity import accounts, totp
    from clearguard.identity.service import passwords_from
    from clearguard.identity.totp_secrets import TotpSecrets
    from clearguard.setup import initialise

    settings = Settings(database_url=f"sqlite:///{workdir / 'secure.db'}", var_dir=workdir / "var")
    for _line in initialise(settings, demo=False):
        pass
    engine = db.make_engine(settings.database_url)
    with db.transaction(db.make_session_factory(engine)) as session:
        account = accounts.create_account(
            session,
            passwords_from(settings),
            username="bench-trader",
            role="trader",
            password=PASSWORD,
            now=datetime.now(UTC),
            party_eori=TRADER_EORI,
        )
        secret = totp.new_secret()
        TotpSecrets(build_secret_box(settings)).put(account, secret)
        account.totp_confirmed = True
    engine.dispose()
    return secret


def login(base: str, secret: str) -> tuple[str, float]:
    """(access token, median milliseconds of the password step over 5 logins)."""
    from clearguard.identity import totp

    costs = []
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(5):
            start = time.perf_counter()
            r = client.post("/api/v1/auth/login", json={"username": "bench-trader", "password": PASSWORD})
            costs.append((time.perf_counter() - start) * 1000)
            r.raise_for_status()
        t = client.post(
            "/api/v1/auth/mfa/totp",
            json={"mfa_token": r.json()["mfa_token"], "code": totp.code_at(secret, datetime.now(UTC))},
        )
        t.raise_for_status()
    return str(t.json()["access_token"]), statistics.median(costs)


def documents(count: int) -> list[bytes]:
    from clearguard.declarations.samples import generate

    docs = []
    for n, doc in enumerate(generate(count, seed=7, h7_share=0.0)):
        doc["declarant"]["eori"] = TRADER_EORI
        doc["lrn"] = f"BENCH-{n:08d}"
        docs.append(json.dumps(doc).encode())
    return docs


# ----------------------------------------------------------------------------- load
def drive(url: str, docs: list[bytes], clients: int, headers: dict[str, str]) -> float:
    """Requests per second for POSTing every document once, `clients` keep-alive connections."""
    headers = {**headers, "content-type": "application/json"}
    failures: list[str] = []
    chunks = [docs[i::clients] for i in range(clients)]

    def worker(chunk: list[bytes]) -> None:
        with httpx.Client(timeout=60) as client:
            for body in chunk:
                r = client.post(url, content=body, headers=headers)
                if r.status_code != 201:
                    failures.append(f"{r.status_code} {r.text[:300]}")

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, first: {failures[0]}")
    return len(docs) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000, help="declarations per server")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5, help="alternations between the two servers")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--serve", choices=["secure", "bare", "guarded"], help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.workdir, args.port)
        return

    docs = documents(args.count + args.warmup)
    warm, measured = docs[: args.warmup], docs[args.warmup :]
    per_round = max(1, len(measured) // args.rounds)
    rounds = [measured[i : i + per_round] for i in range(0, len(measured), per_round)]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        secret = prepare_secure_db(workdir)
        procs: list[subprocess.Popen[bytes]] = []
        try:
            bases = []
            for kind in ("bare", "secure", "guarded"):  # the ones started are stopped, whatever fails
                proc, base = start_server(kind, workdir)
                procs.append(proc)
                bases.append(base)
            bare_base, secure_base, guarded_base = bases
            token, login_ms = login(secure_base, secret)
            auth = {"Authorization": f"Bearer {token}"}
            bare_url, secure_url = bare_base + "/bare", secure_base + "/api/v1/declarations"
            guarded_url = guarded_base + "/bare"
            drive(bare_url, warm, args.clients, {})
            drive(secure_url, warm, args.clients, auth)
            drive(guarded_url, warm, args.clients, auth)
            # Both servers run side by side and take turns, so that load from elsewhere on the
            # machine falls on both alike; the same documents go to each.
            bare_rates, secure_rates, guarded_rates = [], [], []
            for chunk in rounds:
                bare_rates.append(drive(bare_url, chunk, args.clients, {}))
                secure_rates.append(drive(secure_url, chunk, args.clients, auth))
                guarded_rates.append(drive(guarded_url, chunk, args.clients, auth))
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait()
    bare, secure = statistics.median(bare_rates), statistics.median(secure_rates)
    guarded = statistics.median(guarded_rates)
    ratios = sorted(s / b for s, b in zip(secure_rates, bare_rates, strict=True))
    print(
        f"declarations: {args.count} per server in {len(rounds)} alternating rounds, {args.clients} keep-alive "
        "clients, loopback, SQLite WAL (median round)"
    )
    print(f"authenticated API : {secure:8.0f} declarations/s (token, policy, rules, MRN, sealing, ledger, audit, risk)")
    print(f"bare FastAPI      : {bare:8.0f} declarations/s (parse + plain insert, no security)")
    print(f"ratio             : {secure / bare:8.2f}  (target >= 0.33; per round {ratios[0]:.2f}..{ratios[-1]:.2f})")
    print(
        f"identity+access layer alone: {guarded:8.0f} declarations/s = {guarded / bare:.2f} of bare "
        "(token, permission, own-party check, hardening middleware, same parse + insert)"
    )
    print(f"login over HTTP, password step: {login_ms:.0f} ms (Argon2id, includes the request)")


if __name__ == "__main__":
    main()
