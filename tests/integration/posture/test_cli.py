"""`clearguard audit security`: text, JSON (the issue's shape) and HTML to a 0600 file; exit 0 with
no fail, 1 with one, 2 on bad input. pip-audit runs for real, through a proxy that refuses, so the
dependency check says `not checked` and why."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from clearguard.cli import app
from tests.helpers import operator_cli

runner = CliRunner()


@pytest.fixture
def cli_env(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = operator_cli(empty_database[0], tmp_path, monkeypatch, env="test", auth_argon2_time_cost="1")
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.setenv("CLEARGUARD_POSTURE_ADVISORY_TIMEOUT_S", "5")
    monkeypatch.setenv("CLEARGUARD_SECRET_KEY", "a-real-secret-for-this-test-0123456789")
    return folder


def test_json_html_exit_codes_and_bad_input(cli_env: Path) -> None:
    result = runner.invoke(app, ["audit", "security", "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    body = json.loads(result.stdout)
    assert set(body) == {"checks", "summary", "generated_at", "instance"}
    checks = {c["id"]: c for c in body["checks"]}
    assert all(set(c) >= {"id", "status", "reason", "asvs"} for c in checks.values())
    deps = checks["dependencies.vulnerable"]
    assert deps["status"] == "warn" and deps["reason"].startswith("not checked: ")
    assert result.exit_code == (1 if body["summary"]["fail"] else 0)
    assert (cli_env / "var" / "posture" / "pip-audit.json").exists()  # cached for the next run

    # A fail: the database file opened to others.
    os.chmod(cli_env / "var" / "keys" / "tls" / "ca.pem", 0o644)
    out = cli_env / "report.html"
    failed = runner.invoke(app, ["audit", "security", "--format", "html", "--out", str(out)])
    assert failed.exit_code == 1, failed.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    page = out.read_text()
    assert "files.permissions" in page and 'class="fail"' in page

    text = runner.invoke(app, ["audit", "security"])
    assert text.exit_code == 1 and "FAIL  files.permissions" in text.stdout

    bad = runner.invoke(app, ["audit", "security", "--format", "xml"])
    assert bad.exit_code == 2 and "format" in bad.output
    nowhere = runner.invoke(app, ["audit", "security", "--out", str(cli_env / "missing" / "r.json")])
    assert nowhere.exit_code == 2 and "out" in nowhere.output
