"""An operator deletes the database to start afresh but keeps var/keys: the log's key has signed a
history, so lodging into a new, empty history under the same key (a fork) is refused. The refusal
says what to do, and doing it (a new log with a new key) works, through the CLI as run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from clearguard.cli import app
from tests.helpers import EXAMPLES, operator_cli

runner = CliRunner()


def test_a_replaced_database_is_refused_with_the_way_out(
    empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    operator_cli(empty_database[0], tmp_path, monkeypatch)
    lodged = runner.invoke(app, ["declarations", "lodge", str(EXAMPLES / "h1-import.json")])
    assert lodged.exit_code == 0, lodged.output
    assert runner.invoke(app, ["ledger", "integrate"]).exit_code == 0

    # The database starts afresh (a new file), the keys stay.
    monkeypatch.setenv("CLEARGUARD_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    assert runner.invoke(app, ["init", "--no-demo"]).exit_code == 0
    refused = runner.invoke(app, ["declarations", "lodge", str(EXAMPLES / "h1-import.json")])
    assert refused.exit_code != 0
    flat = " ".join(refused.output.split())
    assert "rolled back or replaced" in flat and "clearguard backup restore FILE" in flat, flat
    assert "move the log's signing key (ledger-log.key) and ledger-signed-state.json" in flat, flat

    # Following it: a new log, with a new key, accepts the lodging and verifies.
    keys = tmp_path / "var" / "keys"
    old_key = (keys / "ledger-log.key").read_bytes()
    aside = tmp_path / "old-log"
    aside.mkdir()
    for name in ("ledger-log.key", "ledger-signed-state.json"):
        shutil.move(keys / name, aside / name)
    lodged = runner.invoke(app, ["declarations", "lodge", str(EXAMPLES / "h1-import.json")])
    assert lodged.exit_code == 0, lodged.output
    assert runner.invoke(app, ["ledger", "integrate"]).exit_code == 0
    verified = runner.invoke(app, ["ledger", "verify"])
    assert verified.exit_code == 0 and "ok:" in verified.stdout, verified.output
    assert (keys / "ledger-log.key").read_bytes() != old_key
