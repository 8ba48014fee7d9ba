"""Two real ClearGuard instances on loopback (clearguard.app.create_app over build_services, served
over HTTPS with the certificates `clearguard init` makes), each with its own var directory, keys,
local CA and database (two SQLite files, or two PostgreSQL schemas), each the other's witness and
mirror, each trusting the other's CA. Also a static tlog-tiles host, for a partner that serves what it
likes."""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from clearguard import db
from clearguard.app import create_app
from clearguard.config import Settings
from clearguard.crypto import init_keys
from clearguard.crypto.tls import TlsFiles, client_context, init_tls, uvicorn_ssl_kwargs
from clearguard.declarations.results import Actor
from clearguard.ledger.witness_service import WitnessService
from clearguard.tables import metadata
from clearguard.wiring import Services, build_services
from tests.helpers import example

POSTGRES_URL_VAR = "CLEARGUARD_TEST_POSTGRES_URL"
SEED = Actor("trader-1", "trader", "test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Instance:
    name: str
    settings: Settings
    services: Services
    url: str
    server: uvicorn.Server
    thread: threading.Thread
    env: dict[str, str] = field(default_factory=dict)
    lrn: int = 0

    def http(self, **kwargs: Any) -> httpx.Client:
        """A client that trusts the partners' CAs, as this instance's own does."""
        ca = self.settings.ledger_partner_ca_file
        assert ca is not None
        return httpx.Client(timeout=5, verify=client_context(ca), **kwargs)

    @property
    def factory(self) -> sessionmaker[Session]:
        return self.services.session_factory

    @property
    def witness(self) -> WitnessService:
        assert self.services.witness is not None
        return self.services.witness

    @property
    def origin(self) -> str:
        return self.services.ledger.origin

    def lodge(self, count: int = 1) -> None:
        """Real lodgings (H7, receipt on the lodging path): each a declaration version in the ledger."""
        for _ in range(count):
            self.lrn += 1
            doc = example("h7-low-value.json")
            doc["lrn"] = f"{self.name.upper()}-WIT-{self.lrn:06d}"
            result = self.services.declarations.lodge(doc, SEED, receipt=False)
            assert result.ledger_index is not None

    def cli(self, *args: str) -> CliResult:
        """`clearguard ...` on this instance's machine, through the CLI test helper (in process: a
        new interpreter costs many seconds on a loaded machine)."""
        from clearguard.cli import app

        result = CliRunner().invoke(app, list(args), env=self.env, catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    def cli_process(self, *args: str) -> CliResult:
        """`clearguard ...` as an operator runs it: a process of its own."""
        command = [str(Path(sys.executable).with_name("clearguard")), *args]
        done = subprocess.run(
            command, env={**os.environ, **self.env}, capture_output=True, text=True, timeout=300, check=False
        )
        return CliResult(done.returncode, done.stdout, done.stderr)

    def stop(self) -> None:
        self.server.should_exit = True

    def join(self) -> None:
        self.thread.join(timeout=15)

    def restart(self) -> None:
        """The same instance (database, keys, port) back after an outage."""
        self.stop()
        self.join()
        config = self.server.config
        self.server, self.thread = _serve(config.app, config.port, self.settings)


def local_ca(var_dir: Path) -> Path:
    """What `clearguard init` makes for TLS: a local CA and a localhost server certificate."""
    init_tls(var_dir / "keys")
    return TlsFiles.under(var_dir / "keys").ca_cert


def start_instance(name: str, database_url: str, engine: Engine, var_dir: Path, partner_ca: Path) -> Instance:
    settings = Settings(
        env="test",
        database_url=database_url,
        var_dir=var_dir,
        ledger_origin=f"{name}.customs.example/ledger",
        ledger_witness_name=f"{name}.customs.example/witness",
        ledger_batch_interval_ms=50,
        ledger_witness_timeout_s=3.0,
        ledger_partner_ca_file=partner_ca,
    )
    init_keys(settings)
    metadata.create_all(engine)
    services = build_services(settings, engine=engine)
    app = create_app(settings, services=services)
    port = free_port()
    server, thread = _serve(app, port, settings)
    env = {
        "CLEARGUARD_ENV": "test",
        "CLEARGUARD_DATABASE_URL": database_url,
        "CLEARGUARD_VAR_DIR": str(var_dir),
        "CLEARGUARD_LEDGER_ORIGIN": settings.ledger_origin,
        "CLEARGUARD_LEDGER_WITNESS_NAME": settings.ledger_witness_name,
        "CLEARGUARD_LEDGER_WITNESS_TIMEOUT_S": "3",
        "CLEARGUARD_LEDGER_PARTNER_CA_FILE": str(partner_ca),
    }
    return Instance(name, settings, services, f"https://127.0.0.1:{port}", server, thread, env)


def _serve(app: Any, port: int, settings: Settings) -> tuple[uvicorn.Server, threading.Thread]:
    tls = uvicorn_ssl_kwargs(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=3, **tls)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, f"the server on port {port} to start", 20)
    return server, thread


def partner(a: Instance, b: Instance, url: str | None = None) -> None:
    """What `sharing partner add` does on `a` with `b`'s identity."""
    with a.factory() as session, session.begin():
        a.witness.register_partner(
            session,
            name=b.name,
            origin=b.origin,
            log_vkey=b.services.ledger.vkey(),
            witness_vkey=b.witness.vkey(),
            url=url or b.url,
        )


@functools.cache
def _postgres_base() -> str | None:
    return os.environ.get(POSTGRES_URL_VAR)


def second_database(first: tuple[str, Engine], tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """Another empty database of the same kind as `first`."""
    _url, engine = first
    if engine.dialect.name == "sqlite":
        other = db.make_engine(f"sqlite:///{tmp_path / 'second.db'}")
        yield other.url.render_as_string(hide_password=False), other
        other.dispose()
        return
    base = _postgres_base()
    assert base
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = db.make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    other = db.make_engine(url)
    try:
        yield url, other
    finally:
        other.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class StaticHost:
    """A plain static web server over a folder: a partner serving a tiles directory as it likes."""

    folder: Path
    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def static_host(folder: Path) -> StaticHost:
    folder.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return StaticHost(folder, server, thread)
