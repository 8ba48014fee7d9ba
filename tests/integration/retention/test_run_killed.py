"""A `clearguard retention run` killed with SIGKILL midway, then run again, ends in the state of one
uninterrupted run: the same declarations disposed of (each once, by one run), the same counts in one
certificate, the same keys shredded, and a ledger that verifies.

The kill is placed, not hoped for: once the run has committed a batch, the test takes the write lock
the next batch needs (SQLite's BEGIN IMMEDIATE, or the run's row FOR UPDATE on PostgreSQL), checks the
run is still going, and kills it while it waits. The counts are compared with an uninterrupted run over
a second database lodged with the same declarations.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.db import make_engine
from clearguard.declarations.samples import generate
from tests.helpers import import_summary, operator_cli

runner = CliRunner()
COUNT = 120
BATCH = "2"
AS_OF = "2045-01-01"


def cli(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"{args}: {result.output}"
    return json.loads(result.stdout) if "--json" in args else result.stdout


def lodge(folder: Path) -> None:
    path = folder / "batch.jsonl"
    path.write_text("".join(json.dumps(doc) + "\n" for doc in generate(COUNT, seed=7)))
    imported = runner.invoke(app, ["declarations", "import", str(path), "--json"])
    assert imported.exit_code == 0, imported.output
    assert import_summary(imported.stdout)["created"] == COUNT


def state(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        runs = conn.execute(text("SELECT id, status, certificate FROM retention_runs ORDER BY id")).all()
        marks = conn.execute(
            text("SELECT disposal_run, count(*) FROM declarations GROUP BY disposal_run ORDER BY disposal_run")
        ).all()
        keys = conn.execute(text("SELECT count(*) FROM crypto_data_keys WHERE wrapped IS NOT NULL")).scalar_one()
        parties = conn.execute(text("SELECT count(*) FROM declaration_parties")).scalar_one()
    certificates = [json.loads(c) if isinstance(c, str) else c for _i, _s, c in runs]
    return {
        "runs": [
            (status, cert["disposed"], len(cert.get("mrns", [])))
            for (_i, status, _c), cert in zip(runs, certificates, strict=True)
        ],
        "marks": [(run is not None, n) for run, n in marks],
        "live_keys": keys,
        "party_rows": parties,
    }


def killed_midway(url: str, engine: Engine) -> None:
    clearguard = str(Path(sys.executable).with_name("clearguard"))
    command = [clearguard, "retention", "run", "--yes", "--json", "--as-of", AS_OF]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    deadline = time.monotonic() + 60
    seen: list[Any] = []
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                row = conn.execute(text("SELECT id, batches FROM retention_runs WHERE status = 'running'")).first()
            seen.append(row)
            if row is not None and row[1] >= 2:
                break
            assert process.poll() is None, f"the run ended before it could be stopped ({len(seen)} polls: {seen[-3:]})"
            time.sleep(0.005)
        else:
            pytest.fail("the run never committed two batches")
        with engine.connect() as conn:
            # The write lock of the whole database on SQLite, the run's row on PostgreSQL: either way
            # the run's next batch waits for it.
            locked = conn.begin()
            conn.execute(text("UPDATE retention_runs SET batches = batches WHERE id = :i"), {"i": row[0]})
            status = conn.execute(text("SELECT status FROM retention_runs WHERE id = :i"), {"i": row[0]}).scalar_one()
            assert status == "running"
            time.sleep(0.3)  # the run is now waiting for this lock
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            locked.rollback()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_killed_run_finishes_as_one_uninterrupted_run(
    empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = empty_database
    # The reference: an uninterrupted run over a second database lodged with the same declarations.
    twin_folder = tmp_path / "twin"
    twin_folder.mkdir()
    twin_url = f"sqlite:///{twin_folder / 'twin.db'}"
    operator_cli(twin_url, twin_folder, monkeypatch, env="test", retention_batch_size=BATCH)
    lodge(twin_folder)
    reference = cli("retention", "run", "--yes", "--json", "--as-of", AS_OF)
    assert reference["disposed"]["declarations"] == COUNT
    twin = make_engine(twin_url)
    expected = state(twin)
    twin.dispose()

    folder = tmp_path / "killed"
    folder.mkdir()
    operator_cli(url, folder, monkeypatch, env="test", retention_batch_size=BATCH)
    lodge(folder)
    killed_midway(url, engine)
    partial = state(engine)
    assert partial["runs"][0][0] == "running"
    disposed_so_far = sum(n for marked, n in partial["marks"] if marked)
    assert 0 < disposed_so_far < COUNT, partial

    resumed = cli("retention", "run", "--yes", "--json", "--as-of", AS_OF)
    assert resumed["resumed"] is True and resumed["run"] == reference["run"]
    assert resumed["disposed"] == reference["disposed"]
    final = state(engine)
    assert final == expected
    assert final["runs"] == [("complete", reference["disposed"], COUNT)]
    assert final["marks"] == [(True, COUNT)] and final["party_rows"] == 0
    assert cli("retention", "run", "--yes", "--json", "--as-of", AS_OF)["disposed"]["declarations"] == 0
    cli("ledger", "integrate")
    assert cli("ledger", "verify").startswith("ok:")
