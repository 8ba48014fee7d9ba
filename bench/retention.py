"""Retention benchmark: a disposal run over N lodged declarations versus a bare DELETE of the same rows.

N generated declarations (H1 and H7, several offices and jurisdictions) are lodged through the full
pipeline (envelope encryption, ledger, audit, risk) into a SQLite database (WAL), which is then
copied. On one copy, `RetentionService.run` disposes of everything due at a date far enough ahead
(every declaration): tombstones the declarations, empties their versions and transitions, deletes
their parties and risk records, crypto-shreds the keys of the parties left with nothing to keep and
writes the certificate to the ledger. On the other, in the same process, a bare baseline deletes the
same rows (parties, transitions, versions, risk records, declarations) with one DELETE per table per
batch of the same size, and nothing else. Prints both rates in declarations per second, and the ratio.

    .venv/bin/python bench/retention.py [--count 100000] [--batch 500]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from clearguard.config import Settings
from clearguard.crypto import init_keys
from clearguard.declarations.results import Actor
from clearguard.declarations.samples import generate
from clearguard.runtime import tune_gc
from clearguard.tables import metadata
from clearguard.wiring import build_services

ACTOR = Actor("bench", "system", "bench")
FAR = datetime(2045, 1, 1, tzinfo=UTC)


def lodge(settings: Settings, count: int, batch: int) -> float:
    init_keys(settings)
    services = build_services(settings)
    metadata.create_all(services.engine)
    docs = generate(count)
    start = time.perf_counter()
    done = sum(
        1
        for _n, outcome in services.declarations.lodge_many(enumerate(docs, 1), ACTOR, batch_size=batch)
        if getattr(outcome, "created", False)
    )
    elapsed = time.perf_counter() - start
    services.close()
    assert done == count, f"only {done} of {count} lodged"
    return count / elapsed


def checkpoint(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def dispose(settings: Settings, batch: int) -> tuple[float, dict[str, int]]:
    services = build_services(settings.model_copy(update={"retention_batch_size": batch}))
    start = time.perf_counter()
    report = services.retention.run(as_of=FAR, actor="bench")
    elapsed = time.perf_counter() - start
    services.close()
    return elapsed, report.counts


def bare_delete(path: Path, batch: int) -> tuple[float, int]:
    """The same rows deleted with plain SQL, batch by batch: no tombstone, no key, no certificate."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    ids = [row[0] for row in conn.execute("SELECT id FROM declarations ORDER BY id")]
    start = time.perf_counter()
    for offset in range(0, len(ids), batch):
        chunk = ids[offset : offset + batch]
        marks = ",".join("?" * len(chunk))
        conn.execute("BEGIN IMMEDIATE")
        mrns = [row[0] for row in conn.execute(f"SELECT mrn FROM declarations WHERE id IN ({marks})", chunk)]
        refs = ",".join("?" * len(mrns))
        for table in ("risk_assessments", "risk_outcomes"):
            conn.execute(f"DELETE FROM {table} WHERE declaration_ref IN ({refs})", mrns)
        for table in ("declaration_parties", "declaration_events", "declaration_versions"):
            conn.execute(f"DELETE FROM {table} WHERE declaration_id IN ({marks})", chunk)
        conn.execute(f"DELETE FROM declarations WHERE id IN ({marks})", chunk)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed, len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    tune_gc()
    with tempfile.TemporaryDirectory(prefix="cg-retention-") as tmp:
        work = Path(tmp)
        db_path = work / "clearguard.db"
        settings = Settings(env="test", database_url=f"sqlite:///{db_path}", var_dir=work / "var")
        print(f"lodging {args.count} declarations (full pipeline)...", flush=True)
        rate = lodge(settings, args.count, args.batch)
        print(f"  lodged at {rate:,.0f} declarations/s")
        checkpoint(db_path)
        twin = work / "baseline.db"
        shutil.copyfile(db_path, twin)

        seconds, counts = dispose(settings, args.batch)
        disposed = counts["declarations"]
        assert disposed == args.count, counts
        base_seconds, deleted = bare_delete(twin, args.batch)
        assert deleted == args.count
        ours, theirs = disposed / seconds, deleted / base_seconds
        print(
            f"retention run:  {disposed:,} declarations disposed in {seconds:.1f} s = {ours:,.0f} declarations/s "
            f"({counts['versions']:,} versions, {counts['transitions']:,} transitions, "
            f"{counts['risk_records']:,} risk records, {counts['parties_shredded']:,} parties' keys shredded)"
        )
        print(
            f"bare DELETE:    {deleted:,} declarations' rows deleted in {base_seconds:.1f} s = "
            f"{theirs:,.0f} declarations/s"
        )
        print(f"ratio (retention run / bare DELETE): {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
