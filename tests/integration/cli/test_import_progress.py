"""`clearguard declarations import --json`: JSON Lines, one `committed` object per batch once it has
committed (the lines, LRNs and MRNs it created, those already lodged, the rejected lines, how many
lines are done), then one `summary` object. What the progress names is exactly what is stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.declarations.samples import generate
from tests.helpers import operator_cli

runner = CliRunner()


@pytest.fixture
def cli_env(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return operator_cli(empty_database[0], tmp_path, monkeypatch, quiet_risk=True)


def imported(path: Path, *extra: str) -> tuple[int, list[dict[str, Any]]]:
    result = runner.invoke(app, ["declarations", "import", str(path), "--json", "--batch-size", "3", *extra])
    return result.exit_code, [json.loads(line) for line in result.stdout.splitlines()]


def test_progress_lines_name_each_committed_batch(cli_env: Path, empty_database: tuple[str, Engine]) -> None:
    docs = generate(7, seed=5)
    lines = [json.dumps(d) for d in docs]
    lines.insert(4, '{"type": "H1"}')  # line 5: rejected, reported in its batch and in the summary
    path = cli_env / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n")

    code, events = imported(path)
    assert code == 1  # a rejected line
    *progress, summary = events
    assert [e["event"] for e in progress] == ["committed"] * 3 and [e["done"] for e in progress] == [3, 6, 8]
    assert [e["rejected"] for e in progress] == [[], [5], []]
    created = [row for e in progress for row in e["created"]]
    assert [row["line"] for row in created] == [1, 2, 3, 4, 6, 7, 8]
    assert [row["lrn"] for row in created] == [d["lrn"] for d in docs]
    assert summary == {
        "event": "summary", "created": 7, "already_lodged": 0, "rejected": 1,
        "rejected_lines": [summary["rejected_lines"][0]],
    }  # fmt: skip
    assert summary["rejected_lines"][0]["line"] == 5
    with empty_database[1].connect() as conn:
        stored = {lrn: mrn for lrn, mrn in conn.execute(text("SELECT lrn, mrn FROM declarations"))}
    assert {row["lrn"]: row["mrn"] for row in created} == stored

    # Again: nothing created, every line reported as already lodged with its first MRN.
    code, again = imported(path)
    *progress, summary = again
    assert summary["created"] == 0 and summary["already_lodged"] == 7
    assert all(e["created"] == [] for e in progress)
    assert {row["lrn"]: row["mrn"] for e in progress for row in e["already_lodged"]} == stored


def test_without_json_the_output_is_the_one_line_summary(cli_env: Path) -> None:
    path = cli_env / "batch.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in generate(2, seed=6)))
    result = runner.invoke(app, ["declarations", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "created 2, already lodged 0, rejected 0"
