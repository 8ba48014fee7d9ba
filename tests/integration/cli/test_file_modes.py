"""Item 9: nothing ClearGuard writes under var/ is readable by other local users.

Run as an operator runs it: the `clearguard` executable in subprocesses (so the process-start umask
applies), `init`, then a lodging, then every file and directory under var/ is checked, the SQLite
database with its -wal and -shm included. A var/ left 0755 with a 0644 database by an older version
is tightened by the next start."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import EXAMPLES

CLEARGUARD = Path(sys.executable).with_name("clearguard")


def clearguard(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(CLEARGUARD), *args], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def loose(var: Path) -> list[str]:
    """Every path under var/ (var/ included) that grants group or others any access."""
    found = []
    for path in [var, *var.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(var.parent)} {mode:04o}")
    return found


@pytest.fixture
def operator_env(tmp_path: Path) -> dict[str, str]:
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARGUARD_")}
    env |= {"CLEARGUARD_VAR_DIR": str(var), "CLEARGUARD_DATABASE_URL": f"sqlite:///{var / 'clearguard.db'}"}
    return env


@pytest.mark.asvs("V13.3.2")
def test_init_and_lodging_leave_every_file_private(operator_env: dict[str, str], tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual login umask: what the files got before the fix
    try:
        clearguard(operator_env, "init", "--no-demo")
        var = tmp_path / "var"
        # A reader holds the database open, as a running server does, so the -wal and -shm stay after
        # the lodging process ends (the last connection to close removes them).
        with contextlib.closing(sqlite3.connect(var / "clearguard.db")) as reader:
            reader.execute("SELECT count(*) FROM declarations").fetchall()
            clearguard(operator_env, "declarations", "lodge", str(EXAMPLES / "h1-import.json"))
            names = {p.name for p in var.rglob("*")}
            # The search covers what matters: the database with its WAL files, keys, the share store.
            assert {"clearguard.db", "clearguard.db-wal", "clearguard.db-shm", "keys", "shares.db"} <= names
            assert loose(var) == []
    finally:
        os.umask(old)


def test_an_existing_world_readable_install_is_tightened(operator_env: dict[str, str], tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        clearguard(operator_env, "init", "--no-demo")
        var = tmp_path / "var"
        os.chmod(var, 0o755)
        for name in ("clearguard.db", "clearguard.db-wal", "clearguard.db-shm"):
            if (var / name).exists():
                os.chmod(var / name, 0o644)
        clearguard(operator_env, "init", "--no-demo")
        clearguard(operator_env, "declarations", "lodge", str(EXAMPLES / "h1-import.json"))
        assert loose(var) == []
    finally:
        os.umask(old)


def test_published_tiles_are_public_while_var_stays_private(operator_env: dict[str, str], tmp_path: Path) -> None:
    # The tiles are for a static host that may run as another user: readable by all, nothing more.
    clearguard(operator_env, "init", "--no-demo")
    clearguard(operator_env, "declarations", "lodge", str(EXAMPLES / "h1-import.json"))
    site = tmp_path / "site" / "log"
    clearguard(operator_env, "ledger", "publish", str(site))
    published = [site, *site.rglob("*")]
    assert any(p.name == "checkpoint" for p in published) and any(p.is_dir() for p in site.rglob("*"))
    for path in published:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), f"{path} {mode:04o}"
    assert loose(tmp_path / "var") == []
