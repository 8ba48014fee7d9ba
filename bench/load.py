"""Load benchmark: `clearguard serve --workers 1, 2, 4` on PostgreSQL with Redis, under rising load.

Each client is a thread with its own keep-alive connection, its own trader account (logged in with
TOTP) and its own source address (X-Forwarded-For, trusted from loopback as behind a proxy). It loops:
lodge a new declaration (distinct LRN), then read one it lodged. Every level (1, 2, 4, 8, 16 clients)
runs a warm-up, then a measured window; then the next level, then the next worker count. Everything
is on loopback and stops by itself.

Per level it prints throughput (requests/s), p50/p95/p99 latency of lodging and reading, errors, and
the throughput as a ratio to one worker at the same level; per worker count, the level where
saturation starts (throughput grows by less than 10% over the level before). The edge rate limits
are raised for the run (one client here stands for many users' traffic); they still go through Redis.

The figures are the machine's, not the software's alone: the server workers, PostgreSQL, Redis and
this load generator share its cores.

    .venv/bin/python bench/load.py [--workers 1,2,4] [--levels 1,2,4,8,16] [--seconds 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bench.cluster` when run as a script

from bench import cluster

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
LRN_SLOT = b"@LRN@"
TEMPLATES = 300  # distinct generated declarations (H1 and H7), reused with new LRNs


@dataclass
class Sample:
    lodge: list[float] = field(default_factory=list)  # seconds
    read: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Level:
    workers: int
    clients: int
    seconds: float
    lodged: int
    read: int
    errors: int
    first_error: str | None
    lodge_ms: tuple[float, float, float]
    read_ms: tuple[float, float, float]

    @property
    def throughput(self) -> float:
        return (self.lodged + self.read) / self.seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "workers": self.workers,
            "clients": self.clients,
            "seconds": round(self.seconds, 2),
            "requests_per_s": round(self.throughput, 1),
            "lodged": self.lodged,
            "read": self.read,
            "errors": self.errors,
            "first_error": self.first_error,
            "lodge_ms_p50_p95_p99": [round(x, 1) for x in self.lodge_ms],
            "read_ms_p50_p95_p99": [round(x, 1) for x in self.read_ms],
        }


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        only = values[0] * 1000 if values else 0.0
        return (only, only, only)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return (cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000)


class Client(threading.Thread):
    """One client: lodges, then reads what it lodged, until told to stop; records only while `measure`
    is set, so the warm-up is not counted."""

    def __init__(self, base: str, token: str, number: int, prefix: str, templates: list[bytes]) -> None:
        super().__init__(daemon=True)
        self.headers = {
            "Authorization": f"Bearer {token}",
            "content-type": "application/json",
            "X-Forwarded-For": f"198.51.100.{number + 1}",
        }
        self.base = base
        self.number = number
        self.prefix = prefix
        self.templates = templates
        self.count = 0
        self.mrns: list[str] = []
        self.sample = Sample()
        self.measure = threading.Event()
        self.halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=60) as http:
            while not self.halt.is_set():
                self._lodge(http)
                if self.mrns and not self.halt.is_set():
                    self._read(http)

    def _lodge(self, http: httpx.Client) -> None:
        # A varied document with a new LRN, so that every lodging creates a declaration; made by
        # replacing a placeholder, since generating documents here would take the server's CPU.
        template = self.templates[(self.number * 7919 + self.count) % len(self.templates)]
        body = template.replace(LRN_SLOT, f"{self.prefix}{self.count:07d}".encode())
        self.count += 1
        start = time.perf_counter()
        try:
            r = http.post("/api/v1/declarations", content=body, headers=self.headers)
            elapsed = time.perf_counter() - start
            if r.status_code == 201:
                self.mrns.append(r.json()["mrn"])
                if self.measure.is_set():
                    self.sample.lodge.append(elapsed)
                return
            problem = f"lodge {r.status_code} {r.text[:200]}"
        except httpx.HTTPError as exc:
            problem = f"lodge {exc!r}"
        if self.measure.is_set():
            self.sample.errors.append(problem)

    def _read(self, http: httpx.Client) -> None:
        mrn = self.mrns[len(self.mrns) // 2]
        start = time.perf_counter()
        try:
            r = http.get(f"/api/v1/declarations/{mrn}", headers=self.headers)
            elapsed = time.perf_counter() - start
            if r.status_code == 200:
                if self.measure.is_set():
                    self.sample.read.append(elapsed)
                return
            problem = f"read {r.status_code} {r.text[:200]}"
        except httpx.HTTPError as exc:
            problem = f"read {exc!r}"
        if self.measure.is_set():
            self.sample.errors.append(problem)


def run_level(
    base: str, tokens: list[str], templates: list[bytes], workers: int, clients: int, warmup: float, seconds: float
) -> Level:
    tag = uuid.uuid4().hex[:6].upper()
    threads = [Client(base, tokens[i], i, f"LD{tag}{i:02d}", templates) for i in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    for thread in threads:
        thread.measure.set()
    started = time.perf_counter()
    time.sleep(seconds)
    for thread in threads:
        thread.measure.clear()
    elapsed = time.perf_counter() - started
    for thread in threads:
        thread.halt.set()
    for thread in threads:
        thread.join(120)
    lodge = [x for t in threads for x in t.sample.lodge]
    read = [x for t in threads for x in t.sample.read]
    errors = [e for t in threads for e in t.sample.errors]
    return Level(
        workers,
        clients,
        elapsed,
        len(lodge),
        len(read),
        len(errors),
        errors[0] if errors else None,
        percentiles(lodge),
        percentiles(read),
    )


def saturation(levels: list[Level]) -> int | None:
    """The first client count whose throughput is less than 10% above the previous level's."""
    for before, level in itertools.pairwise(levels):
        if level.throughput < before.throughput * 1.10:
            return level.clients
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--levels", default="1,2,4,8,16", help="concurrent clients per level, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window per level")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each window")
    parser.add_argument("--postgres", default=os.environ.get("CLEARGUARD_TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    worker_counts = [int(w) for w in args.workers.split(",")]
    levels = [int(c) for c in args.levels.split(",")]
    if min(worker_counts) < 1 or min(levels) < 1 or max(levels) > 64:
        raise SystemExit("--workers and --levels: positive counts, at most 64 clients")

    from clearguard import db

    schema = f"load_{uuid.uuid4().hex[:10]}"
    admin = db.make_engine(args.postgres)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{args.postgres}{'&' if '?' in args.postgres else '?'}options=-csearch_path%3D{schema}"
    results: list[Level] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = cluster.environment(
                url,
                Path(tmp) / "var",
                args.redis,
                detection_edge_source_rate="1000000/10 seconds",
                detection_edge_principal_rate="1000000/10 seconds",
            )
            names = [f"load-trader-{i:02d}" for i in range(max(levels))]
            print(f"preparing PostgreSQL schema {schema}: clearguard init, {len(names)} traders", flush=True)
            secrets = cluster.prepare(env, names)
            templates = [
                doc.replace(f"TPL-{n:07d}".encode(), LRN_SLOT)
                for n, doc in enumerate(cluster.documents(TEMPLATES, "TPL"))
            ]
            tokens: list[str] = []
            for count in worker_counts:
                print(f"starting clearguard serve --workers {count}", flush=True)
                server = cluster.start(env, count, Path(tmp) / f"serve-{count}.log")
                try:
                    assert server.base.startswith("http://127.0.0.1:"), "loopback only"
                    if not tokens:  # sessions live in the database: one login each serves every run
                        tokens = [cluster.login(server.base, n, secrets[n]) for n in names]
                    for clients in levels:
                        level = run_level(server.base, tokens, templates, count, clients, args.warmup, args.seconds)
                        results.append(level)
                        print(_line(level, results), flush=True)
                finally:
                    server.stop()
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    report(results, worker_counts, args)


def _line(level: Level, results: list[Level]) -> str:
    one = next((r for r in results if r.workers == 1 and r.clients == level.clients), None)
    ratio = f"{level.throughput / one.throughput:5.2f}" if one and one.throughput else "    -"
    lp, rp = level.lodge_ms, level.read_ms
    return (
        f"workers {level.workers}  clients {level.clients:>2}  {level.throughput:7.1f} req/s  x1w {ratio}  "
        f"lodge p50/p95/p99 {lp[0]:6.1f}/{lp[1]:6.1f}/{lp[2]:6.1f} ms  "
        f"read {rp[0]:6.1f}/{rp[1]:6.1f}/{rp[2]:6.1f} ms  errors {level.errors}"
        + (f"  ({level.first_error})" if level.first_error else "")
    )


def report(results: list[Level], worker_counts: list[int], args: argparse.Namespace) -> None:
    cores = os.cpu_count()
    load = os.getloadavg()
    print()
    print(
        f"loopback, PostgreSQL + Redis, {args.seconds:g} s per level after {args.warmup:g} s warm-up; "
        f"{cores} cores shared by the workers, PostgreSQL, Redis and this load generator "
        f"(load average {load[0]:.1f} at the end)"
    )
    summary: dict[str, Any] = {"levels": [r.to_json() for r in results], "workers": {}}
    for count in worker_counts:
        mine = [r for r in results if r.workers == count]
        if not mine:
            continue
        best = max(mine, key=lambda r: r.throughput)
        knee = saturation(mine)
        clean = [r.clients for r in mine if (knee is None or r.clients < knee) and r.errors]
        ones = {r.clients: r for r in results if r.workers == 1}
        ratios = [r.throughput / ones[r.clients].throughput for r in mine if r.clients in ones]
        print(
            f"workers {count}: peak {best.throughput:.1f} req/s at {best.clients} clients; saturation from "
            f"{knee if knee is not None else 'beyond the levels run'} clients; errors below saturation: "
            f"{clean or 'none'}; throughput / one worker: " + " ".join(f"{x:.2f}" for x in ratios)
        )
        summary["workers"][str(count)] = {
            "peak_requests_per_s": round(best.throughput, 1),
            "peak_at_clients": best.clients,
            "saturation_from_clients": knee,
            "errors_below_saturation": sum(r.errors for r in mine if knee is None or r.clients < knee),
            "ratio_to_one_worker": [round(x, 2) for x in ratios],
        }
    summary["cores"] = cores
    summary["load_average_end"] = [round(x, 1) for x in load]
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
