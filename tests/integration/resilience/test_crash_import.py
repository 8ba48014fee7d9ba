"""Issue 18, deliverable 1: `clearguard declarations import --json` killed with SIGKILL midway. Every
line its progress reported as committed is stored with the MRN it reported, nothing is half-written,
running the same import again creates only the rest (the reported ones come back as already lodged,
same MRNs), and `clearguard ledger verify` passes. SQLite and PostgreSQL.

The kill lands at a random point (seeded, the seed printed; CLEARGUARD_CRASH_SEED replays it): after
a random number of committed batches and a random delay, so it falls inside a batch's transaction,
between batches, or while the next one is being prepared. CLEARGUARD_SOAK_KILLS rounds.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.declarations.samples import generate
from tests.resilience import (
    Instance,
    counts,
    half_written,
    init_instance,
    json_lines,
    kills,
    seed,
    stored,
    verified_size,
)

LINES = 400
BATCH = 20


def import_file(instance: Instance, number: int, run_seed: int) -> tuple[Path, list[str]]:
    docs = generate(LINES, seed=run_seed + number)
    for n, doc in enumerate(docs):
        doc["lrn"] = f"IMP{number:02d}-{n:06d}"  # unique across rounds
    path = instance.folder / f"round-{number}.jsonl"
    path.write_text("".join(json.dumps(doc) + "\n" for doc in docs))
    return path, [doc["lrn"] for doc in docs]


def killed_import(instance: Instance, path: Path, rng: random.Random) -> tuple[list[dict[str, Any]], str]:
    """Runs the import and kills it at a random point; the progress lines it wrote before dying.

    The point: after a random number of committed batches (up to half of them), plus a random share
    of up to two batches' time as measured in this run, so the kill falls anywhere in a batch's
    life whatever the machine's speed. With no batch to wait for, a random moment of the start."""
    batches = LINES // BATCH
    after_batches = rng.randrange(0, batches // 2)
    share = rng.uniform(0.0, 2.0)
    started = time.monotonic()
    process = instance.popen(
        "declarations", "import", str(path), "--json", "--batch-size", str(BATCH),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    events: list[dict[str, Any]] = []
    seen = threading.Event()
    assert process.stdout is not None
    arrived: list[float] = []
    reader = threading.Thread(target=json_lines, args=(process.stdout, events, seen, arrived), daemon=True)
    reader.start()
    deadline = started + 300
    while len(events) < max(after_batches, 2 if after_batches else 0):
        assert process.poll() is None, f"the import ended before the kill: {events[-1:]}"
        assert time.monotonic() < deadline, "the import committed nothing in 300 s"
        seen.wait(0.5)
        seen.clear()
    if after_batches:
        seen_at = arrived[: len(events)]
        delay = share * (seen_at[-1] - seen_at[0]) / (len(seen_at) - 1)  # share of a batch's time, as measured
    else:
        delay = share  # seconds into the start: loading, opening the database, the first batch
    time.sleep(delay)
    finished = process.poll() is not None
    if not finished:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(60)
    reader.join(60)
    assert not finished, "the import finished before the kill: raise LINES"
    return events, f"after {len(events)} batches seen + {delay:.3f}s"


def test_killed_import_loses_no_reported_line_and_finishes_on_rerun(
    empty_database: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = empty_database
    run_seed = seed()
    print(f"crash seed {run_seed} (CLEARGUARD_CRASH_SEED={run_seed} replays it), {kills()} kills")
    rng = random.Random(run_seed)
    instance = init_instance(url, engine, tmp_path / "instance")
    runner = CliRunner()
    for number in range(kills()):
        path, lrns = import_file(instance, number, run_seed)
        events, when = killed_import(instance, path, rng)
        assert all(e["event"] == "committed" for e in events), events[-1:]
        reported = {row["lrn"]: row["mrn"] for e in events for row in e["created"]}
        assert [e["done"] for e in events] == [BATCH * (i + 1) for i in range(len(events))]
        found = stored(engine, lrns)
        print(f"round {number}: killed {when}: {len(reported)} reported committed, {len(found)} stored")
        lost = {lrn: mrn for lrn, mrn in reported.items() if found.get(lrn) != mrn}
        assert not lost, f"reported committed, then lost (or another MRN): {list(lost.items())[:5]}"
        # What is stored beyond the reports is at most the batch whose commit outran its progress line.
        assert len(found) - len(reported) in (0, BATCH), (len(found), len(reported))
        assert half_written(engine) == []

        before = counts(engine)
        # The operator runs the same import again (in process here: one start of the CLI less per round).
        rerun = runner.invoke(
            app, ["declarations", "import", str(path), "--json", "--batch-size", str(BATCH)], env=instance.env
        )
        assert rerun.exit_code == 0, rerun.output
        lines = [json.loads(line) for line in rerun.stdout.splitlines()]
        summary = lines[-1]
        assert summary["event"] == "summary" and summary["rejected"] == 0, summary
        assert summary["created"] == LINES - len(found) and summary["already_lodged"] == len(found), summary
        again = {row["lrn"]: row["mrn"] for e in lines[:-1] for row in e["already_lodged"]}
        assert again == found  # the same MRNs back for everything stored before the kill
        fresh = {row["lrn"]: row["mrn"] for e in lines[:-1] for row in e["created"]}
        assert set(fresh) == set(lrns) - set(found)
        after = counts(engine)
        assert after["declarations"] == before["declarations"] + len(fresh)
        assert stored(engine, lrns) == found | fresh  # each line once, no duplicate
        assert half_written(engine) == []
        # The operator's verification after the crash, in process (the final one runs as a subprocess).
        integrated = runner.invoke(app, ["ledger", "integrate"], env=instance.env)
        assert integrated.exit_code == 0, integrated.output
    verified = instance.cli("ledger", "verify").stdout
    assert verified_size(verified) == counts(engine)["ledger_entries"], verified  # every entry signed and checked
