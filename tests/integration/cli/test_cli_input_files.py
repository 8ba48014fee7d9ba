"""Issue 13, item 13: every command that reads a file takes regular files only, with a byte limit.

`declarations validate /dev/zero` read until MemoryError and a FIFO hung the command. Each command
that reads a user's file now answers exit 2 and one line naming the file and the rule, and stores
nothing, for /dev/zero, a FIFO, a directory, a too-large file, binary garbage and invalid UTF-8.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from clearguard.cli import app
from tests.helpers import example, operator_cli

runner = CliRunner()
CLEARGUARD = str(Path(sys.executable).with_name("clearguard"))
MRN = "26GB00000000000001"


@pytest.fixture
def cli_env(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    limits = {"max_request_bytes": "20000", "max_import_line_bytes": "20000"}
    return operator_cli(empty_database[0], tmp_path, monkeypatch, **limits)


def _fifo(tmp: Path) -> Path:
    path = tmp / "pipe.json"
    os.mkfifo(path)
    return path


def _directory(tmp: Path) -> Path:
    path = tmp / "a-directory"
    path.mkdir()
    return path


def _too_large(tmp: Path) -> Path:
    # A valid declaration padded past CLEARGUARD_MAX_REQUEST_BYTES: refused for its size alone.
    doc = example("h1-import.json")
    doc["items"][0]["description"] = "x" * 30000
    path = tmp / "large.json"
    path.write_text(json.dumps(doc))
    return path


def _garbage(tmp: Path) -> Path:
    path = tmp / "garbage.bin"
    path.write_bytes(bytes(b for b in range(256) if b != 0x0A) * 8)  # one line, not UTF-8
    return path


def _not_utf8(tmp: Path) -> Path:
    path = tmp / "latin1.json"
    path.write_bytes('{"type": "H1", "lrn": "M\u00fcller"}'.encode("latin-1"))
    return path


BAD_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "dev-zero": (lambda _tmp: Path("/dev/zero"), "is a character device; only regular files are read"),
    "fifo": (_fifo, "is a FIFO (named pipe); only regular files are read"),
    "directory": (_directory, "is a directory; only regular files are read"),
    "too-large": (_too_large, "larger than the limit of 20000 bytes (CLEARGUARD_MAX_REQUEST_BYTES)"),
    "garbage": (_garbage, "not UTF-8"),
    "not-utf8": (_not_utf8, "not UTF-8"),
}
COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "validate": lambda f: ["declarations", "validate", str(f)],
    "lodge": lambda f: ["declarations", "lodge", str(f)],
    "import": lambda f: ["declarations", "import", str(f)],
    "amend": lambda f: ["declarations", "amend", MRN, str(f), "--reason", "correction"],
}


def _declarations(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM declarations")).scalar_one())


@pytest.mark.parametrize("bad", sorted(BAD_FILES))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_file_reading_command_refuses_in_one_line(
    cli_env: Path, empty_database: tuple[str, Engine], command: str, bad: str
) -> None:
    make, rule = BAD_FILES[bad]
    path = make(cli_env)
    result = runner.invoke(app, COMMANDS[command](path))
    lines = result.output.strip().splitlines()
    if command == "import" and bad in ("too-large", "garbage", "not-utf8"):
        # A regular file is streamed line by line: each bad line is listed (exit 1), never fatal.
        assert result.exit_code == 1, result.output
        assert "rejected 1" in result.output and "line 1" in result.output
        if bad == "too-large":
            assert "(CLEARGUARD_MAX_IMPORT_LINE_BYTES)" in result.output
    else:
        assert result.exit_code == 2, result.output
        assert len(lines) == 1, result.output
        assert lines[0].startswith(f"error: {path}: ") and rule in lines[0], lines[0]
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert _declarations(empty_database[1]) == 0


def _limit_memory() -> None:
    # Before the fix /dev/zero was read until MemoryError; bound the child so that failure is quick.
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


@pytest.mark.parametrize("bad", ["dev-zero", "fifo"])
def test_the_installed_command_neither_hangs_nor_runs_out_of_memory(tmp_path: Path, bad: str) -> None:
    """As an operator runs it: the real `clearguard` executable, with a time and a memory bound."""
    path = BAD_FILES[bad][0](tmp_path)
    env = dict(os.environ, CLEARGUARD_VAR_DIR=str(tmp_path / "var"))
    done = subprocess.run(
        [CLEARGUARD, "declarations", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        preexec_fn=_limit_memory,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"error: {path}: {BAD_FILES[bad][1]}"


@pytest.mark.parametrize("bad", ["dev-zero", "fifo", "directory"])
@pytest.mark.parametrize("command", [("risk", "history", "import"), ("risk", "evaluate")])
def test_risk_commands_that_read_files_refuse_what_is_no_regular_file(
    cli_env: Path, command: tuple[str, ...], bad: str
) -> None:
    make, rule = BAD_FILES[bad]
    path = make(cli_env)
    result = runner.invoke(app, [*command, str(path)])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1] == f"error: {path}: {rule}"


@pytest.mark.parametrize("bad", ["dev-zero", "fifo", "directory"])
@pytest.mark.parametrize("command", [("backup", "verify"), ("backup", "restore", "--yes")])
def test_backup_commands_refuse_what_is_no_regular_file(cli_env: Path, command: tuple[str, ...], bad: str) -> None:
    # A FIFO hung `backup verify` and `backup restore`; nothing is restored from what is no file.
    make, rule = BAD_FILES[bad]
    path = make(cli_env)
    result = runner.invoke(app, [*command[:2], str(path), *command[2:]])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1] == f"error: {path}: {rule}"


@pytest.mark.parametrize("bad", ["dev-zero", "fifo", "directory"])
def test_verify_receipt_refuses_what_is_no_regular_file(cli_env: Path, bad: str) -> None:
    # /dev/zero ended in MemoryError and a FIFO hung `ledger verify-receipt`.
    make, rule = BAD_FILES[bad]
    path = make(cli_env)
    result = runner.invoke(app, ["ledger", "verify-receipt", str(path)])
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1] == f"error: {path}: {rule}"
