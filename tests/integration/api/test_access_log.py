"""Issue 13, item 10: the server's access log records no query value (`party=`, `name=`,
`justification=` carried EORIs, names and reasons into the log). Run as an operator runs it:
`clearguard serve`, real requests, then the log it wrote."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from clearguard.api.middleware import scrub_query
from clearguard.cli import app

CLEARGUARD = str(Path(sys.executable).with_name("clearguard"))
SECRETS = ("GB555555555000", "Jane", "Example", "Smuggling", "ACME-2026-000123", "c2VjcmV0")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_scrub_query_keeps_names_and_drops_every_value() -> None:
    assert scrub_query("/api/v1/declarations?party=GB555555555000&limit=5") == "/api/v1/declarations?party=*&limit=*"
    assert scrub_query("/x?GB555555555000") == "/x?*"  # a bare value is a value
    assert scrub_query("/x?Jane%20Example=1") == "/x?*"  # a name that looks like data is dropped too
    assert scrub_query("/health") == "/health"


@pytest.mark.asvs("V16.2.5")
def test_served_access_log_has_no_query_values(
    empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _engine = empty_database
    monkeypatch.setenv("CLEARGUARD_DATABASE_URL", url)
    monkeypatch.setenv("CLEARGUARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(app, ["init", "--no-demo"]).exit_code == 0
    port = _free_port()
    log = (tmp_path / "server.log").open("w+")
    server = subprocess.Popen(
        [CLEARGUARD, "serve", "--insecure-http", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if _get(base + "/health") == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.3)
        assert _get(f"{base}/api/v1/declarations?party=GB555555555000&name=Jane%20Example&limit=5") == 401
        assert _get(f"{base}/api/v1/declarations?lrn=ACME-2026-000123&cursor=c2VjcmV0") == 401
        assert _get(f"{base}/api/v1/declarations/26GB00000000000001?justification=Smuggling%20alert") == 401
    finally:
        server.terminate()
        server.wait(timeout=30)
    log.seek(0)
    written = log.read()
    assert written.count("/api/v1/declarations") == 3, written
    assert "/api/v1/declarations?party=*&name=*&limit=*" in written
    for secret in SECRETS:
        assert secret not in written, written
