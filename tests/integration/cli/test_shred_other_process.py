"""Item 19: a shred takes effect in every running process at once, not when its key cache expires.

A second process with its own services (clearguard.wiring, as a server worker has them) reads a
declaration, so the declarant's key sits in its cache (300 s by default); `clearguard keys shred` runs
in a third process; the second one's next read shows the fields erased. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.helpers import EXAMPLES

CLEARGUARD = Path(sys.executable).with_name("clearguard")

READER = """
import sys
from clearguard.config import Settings
from clearguard.wiring import build_services

services = build_services(Settings())
mrn = sys.argv[1]
try:
    for line in sys.stdin:
        print(services.declarations.get(mrn).document["declarant"]["name"], flush=True)
finally:
    services.close()
"""


@pytest.fixture
def operator_env(empty_database: tuple[str, Engine], tmp_path: Path) -> dict[str, str]:
    url, _engine = empty_database
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARGUARD_")}
    return env | {"CLEARGUARD_VAR_DIR": str(tmp_path / "var"), "CLEARGUARD_DATABASE_URL": url}


def clearguard(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([str(CLEARGUARD), *args], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_a_shred_from_the_cli_erases_at_once_in_a_running_process(operator_env: dict[str, str]) -> None:
    clearguard(operator_env, "init", "--no-demo")
    mrn = json.loads(clearguard(operator_env, "declarations", "lodge", str(EXAMPLES / "h1-import.json"), "--json"))[
        "mrn"
    ]
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, mrn],
        env=operator_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdin is not None and reader.stdout is not None

        def read() -> str:
            assert reader.stdin is not None and reader.stdout is not None
            reader.stdin.write("read\n")
            reader.stdin.flush()
            return reader.stdout.readline().strip()

        assert read() == "Acme Imports Ltd"
        assert read() == "Acme Imports Ltd"  # from the key cache now
        clearguard(operator_env, "keys", "shred", "--party", "GB123456789000", "--yes")
        assert read() == "[erased]"
    finally:
        if reader.stdin is not None:
            reader.stdin.close()
        try:
            reader.wait(timeout=60)
        finally:
            if reader.poll() is None:
                reader.kill()
    assert reader.returncode == 0, reader.stderr.read() if reader.stderr else ""
