"""Detection benchmark.

Scoring: events per second through the evaluation path (enrichment, the shipped Sigma rules, the
anomaly model fitted on the first 14 days, deduplication: `Detector.observe`), beside the same events
only enriched (the Enricher alone: locations, speeds, usual hours), in the same run, with the ratio.
The events come from the simulator (a population with attacks), parsed beforehand; the model is
fitted before the clock starts, as it is before an evaluation's replay.

Edge: the per-request overhead of the API edge (rate limits, payload checks), beside the same
requests with detection's checks off (bench/detection_edge.py, also runnable on its own).

    .venv/bin/python bench/detection.py [--users 100] [--days 30] [--seed 7] [--edge-count 5000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import datetime

from clearguard.detection.engine import ActivityEvent, DetectionConfig, Detector, Locations
from clearguard.detection.enrich import Enricher
from clearguard.detection.evaluate import AfterBaseline, baseline_end
from clearguard.detection.events import parse_event
from clearguard.detection.locations import parse_locations
from clearguard.detection.model import ActivityModel
from clearguard.detection.ruleset import load_rules
from clearguard.detection.simulate import event_line, locations_csv, simulate
from clearguard.runtime import tune_gc
from detection_edge import edge_overhead  # bench/ is on sys.path when this runs as a script


def simulated_events(users: int, days: int, seed: int) -> tuple[list[ActivityEvent], Locations]:
    sim = simulate(users, days, seed)
    events = [parse_event(event_line(e), n) for n, e in enumerate(sim.events, 1)]
    return events, parse_locations(locations_csv())


def enrich_only(events: Sequence[ActivityEvent], locations: Locations, config: DetectionConfig) -> float:
    """The baseline: events per second through enrichment alone."""
    enricher = Enricher(config, locations)
    start = time.perf_counter()
    for event in events:
        enricher.enrich(event)
    return len(events) / (time.perf_counter() - start)


def rules_and_model(events: Sequence[ActivityEvent], locations: Locations, config: DetectionConfig,
                    horizon: datetime) -> tuple[float, int]:  # fmt: skip
    """Events per second through the Detector (rules, model, deduplication), and the findings."""
    model = ActivityModel().fit(e for e in events if e.at < horizon)
    detector = Detector(load_rules(config), config=config, locations=locations,
                        scorers=[AfterBaseline(model, horizon)])  # fmt: skip
    found = 0
    start = time.perf_counter()
    for event in events:
        found += len(detector.observe(event))
    return len(events) / (time.perf_counter() - start), found


def bench_scoring(users: int, days: int, seed: int) -> None:
    print(f"simulating {users} accounts over {days} days...", flush=True)
    events, locations = simulated_events(users, days, seed)
    config = DetectionConfig()
    horizon = baseline_end(events, 14)
    base = enrich_only(events, locations, config)
    ours, found = rules_and_model(events, locations, config, horizon)
    print(f"events:                      {len(events):,}")
    print(f"enrichment only (baseline):  {base:,.0f} events/s")
    print(f"rules + model + dedup:       {ours:,.0f} events/s ({found} findings)")
    print(f"ratio:                       {ours / base:.2f} of the baseline's rate ({base / ours:.1f}x slower)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--edge-count", type=int, default=5000, help="requests per round at the edge (0: skip)")
    args = parser.parse_args()
    tune_gc()
    bench_scoring(args.users, args.days, args.seed)
    if args.edge_count:
        edge = edge_overhead(args.edge_count)
        print(f"API edge, detection on:      {edge['us_per_request_detection_on']:.1f} µs per request")
        print(f"API edge, detection off:     {edge['us_per_request_detection_off']:.1f} µs per request (baseline)")
        print(f"edge overhead:               {edge['overhead_us_per_request']:.1f} µs per request "
              f"(ratio {edge['ratio_on_to_off']:.2f})")


if __name__ == "__main__":
    main()
