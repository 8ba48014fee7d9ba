"""`clearguard serve --workers N`: several workers need PostgreSQL; on SQLite the command refuses
before starting anything, with one line naming the option and the rule, and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from clearguard.cli import app


@pytest.mark.parametrize("workers", ["2", "4"])
def test_several_workers_on_sqlite_are_refused_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    monkeypatch.setenv("CLEARGUARD_DATABASE_URL", f"sqlite:///{tmp_path / 'clearguard.db'}")
    monkeypatch.setenv("CLEARGUARD_VAR_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(app, ["serve", "--insecure-http", "--workers", workers])
    assert result.exit_code == 2
    assert f"--workers {workers}" in result.output and "PostgreSQL" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "clearguard.db").exists()  # refused before anything was opened or created


@pytest.mark.parametrize("workers", ["0", "-1", "65", "two"])
def test_worker_counts_out_of_range_are_refused_with_exit_2(workers: str) -> None:
    result = CliRunner().invoke(app, ["serve", "--insecure-http", "--workers", workers])
    assert result.exit_code == 2
    assert "--workers" in result.output
