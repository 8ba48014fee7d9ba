"""Issue 13, items 10 and 12 on the command line: `declarations list` pages with opaque cursors, and
a cursor it did not seal (the old 40-digit kind among them) is exit 2 with one line naming `cursor`."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.declarations.samples import generate

runner = CliRunner()


@pytest.fixture
def cli_env(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLEARGUARD_DATABASE_URL", empty_database[0])
    monkeypatch.setenv("CLEARGUARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", "--no-demo"]).exit_code == 0
    lines = tmp_path / "three.jsonl"
    lines.write_text("".join(json.dumps(doc) + "\n" for doc in generate(3, seed=7)))
    assert runner.invoke(app, ["declarations", "import", str(lines)]).exit_code in (0, 1)
    return tmp_path


def test_cli_pages_with_opaque_cursors_and_refuses_forged_ones(cli_env: Path) -> None:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        args = ["declarations", "list", "--json", "--limit", "1"] + (["--cursor", cursor] if cursor else [])
        page = json.loads(runner.invoke(app, args).stdout)
        seen += [i["mrn"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert not cursor.isdigit() and len(cursor) == 50
    assert len(seen) == len(set(seen)) >= 2
    for forged in (base64.urlsafe_b64encode(b"9" * 40).decode().rstrip("="), "MTc", "not a cursor"):
        result = runner.invoke(app, ["declarations", "list", "--cursor", forged])
        assert result.exit_code == 2, result.output
        assert result.output.strip() == "error: cursor: not a cursor returned by a previous page of this list"
