"""Ingest benchmark: lodging through the lifecycle service versus a bare parse-and-insert baseline.

Both run in this process, on the same N generated declarations, each into a fresh SQLite database
(WAL) in a temporary directory, in transactions of the same batch size, with the garbage-collector
settings the CLI and the server run with (clearguard.runtime). Prints both rates and the
ratio, then times `clearguard declarations import` of a JSON Lines file of the same declarations.

    .venv/bin/python bench/ingest.py [--count 20000] [--batch 500]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, insert, select

from clearguard import db
from clearguard.config import Settings
from clearguard.crypto import init_keys
from clearguard.db import bulk_insert
from clearguard.declarations.parse import to_model
from clearguard.declarations.plain_vault import PlainVault
from clearguard.declarations.results import Actor
from clearguard.declarations.samples import generate
from clearguard.declarations.tables import DECLARATIONS, EVENTS, PARTIES, VERSIONS
from clearguard.runtime import tune_gc
from clearguard.tables import metadata
from clearguard.wiring import build_lifecycle, build_services

ACTOR = Actor("bench", "system", "bench")


def lodge_rate(docs: list[str], workdir: Path, batch: int, *, full: bool = True) -> float:
    """Through DeclarationService.lodge_many. full: as wired in production (envelope encryption,
    ledger, audit, risk); core: the lifecycle alone (rules, MRN, versions, transitions), no
    encryption, ledger, audit or risk model: what issue 2 alone delivers."""
    name = "full" if full else "core"
    settings = Settings(database_url=f"sqlite:///{workdir / (name + '.db')}", var_dir=workdir / ("var-" + name))
    init_keys(settings)
    services = build_services(settings)
    metadata.create_all(services.engine)
    service = services.declarations
    if not full:
        service = build_lifecycle(services, vault=PlainVault())
    start = time.perf_counter()
    lines = ((n, json.loads(raw)) for n, raw in enumerate(docs, 1))
    done = sum(
        1 for _n, outcome in service.lodge_many(lines, ACTOR, batch_size=batch) if getattr(outcome, "created", False)
    )
    elapsed = time.perf_counter() - start
    services.close()
    assert done == len(docs), f"only {done} of {len(docs)} lodged"
    return len(docs) / elapsed


def baseline_rate(docs: list[str], workdir: Path, batch: int) -> float:
    """Parse (JSON + the same pydantic models) and insert the document: no rules, no lifecycle."""
    engine = db.make_engine(f"sqlite:///{workdir / 'baseline.db'}")
    meta = MetaData()
    table = Table(
        "declarations", meta, Column("id", Integer, primary_key=True), Column("lrn", String(22)), Column("doc", JSON)
    )
    meta.create_all(engine)
    start = time.perf_counter()
    for offset in range(0, len(docs), batch):
        rows: list[dict[str, Any]] = []
        for raw in docs[offset : offset + batch]:
            model = to_model(json.loads(raw))
            assert not isinstance(model, list)
            rows.append({"lrn": model.lrn, "doc": model.model_dump(mode="json")})
        with engine.begin() as conn:
            conn.execute(insert(table), rows)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return len(docs) / elapsed


def floor_rate(docs: list[str], workdir: Path, batch: int) -> float:
    """The baseline's parse, plus the rows the core lifecycle wrote for the same declarations (read back
    from its database, ready-made: no rules, MRN, split or index computed), inserted in the same
    batches: what storing the lifecycle's evidence costs before any of its logic runs."""
    tables = (DECLARATIONS, VERSIONS, PARTIES, EVENTS)
    source = db.make_engine(f"sqlite:///{workdir / 'core.db'}")
    with source.connect() as conn:
        stored = {t.name: [dict(r._mapping) for r in conn.execute(select(t).order_by(t.c.id))] for t in tables}
    source.dispose()
    engine = db.make_engine(f"sqlite:///{workdir / 'floor.db'}")
    metadata.create_all(engine)
    factory = db.make_session_factory(engine)

    def owner(table: Table, row: dict[str, Any]) -> int:
        return int(row["id"] if table is DECLARATIONS else row["declaration_id"])

    batches: dict[int, list[tuple[Table, list[dict[str, Any]]]]] = {
        offset: [(t, []) for t in tables] for offset in range(0, len(docs), batch)
    }
    for position, table in enumerate(tables):
        for row in stored[table.name]:
            batches[(owner(table, row) - 1) // batch * batch][position][1].append(row)
    start = time.perf_counter()
    for offset in range(0, len(docs), batch):
        for raw in docs[offset : offset + batch]:
            model = to_model(json.loads(raw))
            assert not isinstance(model, list)
            model.model_dump(mode="json")
        with db.transaction(factory) as session:
            for table, rows in batches[offset]:
                bulk_insert(session, table, rows)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return len(docs) / elapsed


def import_seconds(docs: list[str], workdir: Path) -> float:
    path = workdir / "import.jsonl"
    path.write_text("\n".join(docs) + "\n")
    env = dict(
        os.environ,
        CLEARGUARD_DATABASE_URL=f"sqlite:///{workdir / 'import.db'}",
        CLEARGUARD_VAR_DIR=str(workdir / "import-var"),
    )
    clearguard = Path(sys.executable).with_name("clearguard")
    subprocess.run([str(clearguard), "init", "--no-demo"], env=env, check=True, capture_output=True)
    start = time.perf_counter()
    result = subprocess.run(
        [str(clearguard), "declarations", "import", str(path), "--json"], env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    summary = json.loads(result.stdout.strip().splitlines()[-1])  # JSON Lines: the summary comes last
    assert summary["created"] == len(docs), summary
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--skip-import", action="store_true")
    args = parser.parse_args()
    tune_gc()  # as the CLI and the server run: for the baseline and the lifecycle alike
    docs = [json.dumps(d) for d in generate(args.count, seed=42)]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        baseline = baseline_rate(docs, workdir, args.batch)
        core = lodge_rate(docs, workdir, args.batch, full=False)
        floor = floor_rate(docs, workdir, args.batch)
        full = lodge_rate(docs, workdir, args.batch, full=True)
        print(f"declarations: {args.count}, batch {args.batch}, SQLite WAL, one process")
        print(f"bare baseline      : {baseline:8.0f} declarations/s (parse + plain insert, no rules)")
        print(
            f"lifecycle, core    : {core:8.0f} declarations/s  ratio {core / baseline:.2f}"
            "  (rules, MRN, versions, transitions)"
        )
        print(
            f"storage floor      : {floor:8.0f} declarations/s  ratio {floor / baseline:.2f}"
            "  (the baseline's parse + the core's own rows, ready-made: no lifecycle logic)"
        )
        print(
            f"lifecycle, full    : {full:8.0f} declarations/s  ratio {full / baseline:.2f}"
            "  (+ envelope encryption, ledger, audit, risk)"
        )
        print("targets: >= 2000 declarations/s and a ratio >= 0.5")
        if not args.skip_import:
            seconds = import_seconds(docs, workdir)
            print(f"declarations import of {args.count} lines: {seconds:.1f} s (target < 20 s)")


if __name__ == "__main__":
    main()
