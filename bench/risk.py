"""Risk engine benchmark: scoring time per declaration, and the lodge rate with scoring on and off.

    .venv/bin/python bench/risk.py [--declarations 2000] [--lodge 1000] [--threads 1]

Prints, from one run:
- the median (and p95) time to score one declaration with the current model (features from the
  history snapshot, LightGBM score, TreeSHAP reasons of the riskiest item, rules, channel), beside the
  nearest baseline: the same decision with rules and random selection only (no model);
- the same through RiskService.assess (database look-ups and the recorded assessment, SQLite);
- the lodge rate of the declarations lifecycle with the risk engine plugged in versus without it.
Target: scoring < 5 ms median per declaration.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from clearguard.config import Settings  # noqa: E402
from clearguard.risk import tables as _risk_tables  # noqa: E402,F401
from clearguard.risk.channels import decide  # noqa: E402
from clearguard.risk.features import FEATURE_NAMES  # noqa: E402
from clearguard.risk.kcs import parse_kcs  # noqa: E402
from clearguard.risk.policy import load_policy  # noqa: E402
from clearguard.risk.record import RiskRecord  # noqa: E402
from clearguard.risk.rules import UnitValueContext, evaluate_rules  # noqa: E402
from clearguard.risk.scorer import Scorer  # noqa: E402
from clearguard.risk.training import TrainingConfig, train  # noqa: E402
from clearguard.wiring import Services  # noqa: E402

KCS = Path(os.environ.get("CLEARGUARD_KCS_DIR", ROOT.parent / "shared" / "data" / "kcs"))
UV_Z = FEATURE_NAMES.index("unit_value_z")


def load(name: str) -> list[RiskRecord]:
    with (KCS / name).open(encoding="utf-8", newline="") as handle:
        return parse_kcs(handle).records


def timed_each(work: Callable[[list[RiskRecord]], None], declarations: list[list[RiskRecord]]) -> list[float]:
    """Milliseconds per declaration."""
    out = []
    for records in declarations:
        start = time.perf_counter()
        work(records)
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(label: str, ms: Sequence[float]) -> None:
    p95 = sorted(ms)[int(len(ms) * 0.95) - 1]
    print(f"  {label:<52} median {statistics.median(ms):7.3f} ms   p95 {p95:7.3f} ms   (n={len(ms)})")


def declarations_of(records: list[RiskRecord], n: int, rng: random.Random) -> list[list[RiskRecord]]:
    """Valid.csv lines grouped into declarations of 1 to 5 items (KCS lines are single items)."""
    out: list[list[RiskRecord]] = []
    i = 0
    while len(out) < n and i < len(records):
        size = rng.choice([1, 1, 1, 2, 3, 5])
        ref = f"BENCH{len(out):06d}"
        out.append(
            [dataclasses.replace(r, declaration_ref=ref, item=n) for n, r in enumerate(records[i : i + size], 1)]
        )
        i += size
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--declarations", type=int, default=2000)
    parser.add_argument("--lodge", type=int, default=1000, help="declarations lodged per run (0: skip)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(7)
    history, valid = load("train.csv"), load("valid.csv")
    start = time.perf_counter()
    model = train(history, TrainingConfig(num_threads=args.threads))
    elapsed = time.perf_counter() - start
    print(f"trained on {len(history)} lines in {elapsed:.1f} s ({model.best_iteration} trees)")
    scorer = Scorer(model, num_threads=1)
    policy = load_policy()
    declarations = declarations_of(valid, args.declarations, rng)
    print(f"scoring {len(declarations)} declarations ({sum(map(len, declarations))} items) from valid.csv")

    def with_model(records: list[RiskRecord]) -> None:
        x = scorer.features(records)
        scores, top, _reasons = scorer.score_and_explain(x)
        history = scorer.unit_value_history(records)
        contexts = [UnitValueContext(float(z), n) for z, n in zip(x[:, UV_Z], history, strict=True)]
        hits = evaluate_rules(policy.rules, records, contexts)
        decide(policy.channels, records[0].office, scorer.top_share(float(scores[top]), records[0].office),
               len(hits), rng.random(), rng.random())  # fmt: skip

    def rules_only(records: list[RiskRecord]) -> None:
        hits = evaluate_rules(policy.rules, records, None)
        decide(policy.channels, records[0].office, None, len(hits), rng.random(), rng.random())

    for records in declarations[:50]:  # warm-up
        with_model(records)
    model_ms = timed_each(with_model, declarations)
    rules_ms = timed_each(rules_only, declarations)
    print("pure scoring (no database):")
    summary("model + reasons + rules + channel, per declaration", model_ms)
    summary("  of which 1-item declarations", [ms for d, ms in zip(declarations, model_ms, strict=True)
                                                if len(d) == 1])  # fmt: skip
    summary("baseline: rules + random selection only", rules_ms)

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            var_dir=Path(tmp) / "var", database_url=f"sqlite:///{tmp}/bench.db", risk_num_threads=args.threads
        )
        from clearguard.crypto import init_keys
        from clearguard.tables import metadata
        from clearguard.wiring import build_services

        init_keys(settings)
        services = build_services(settings)
        engine, factory, service = services.engine, services.session_factory, services.risk
        metadata.create_all(engine)
        with factory() as session, session.begin():
            service.import_history(session, history)
            info = service.train(session)
        print(f"through RiskService.assess on SQLite (model {info.name}, one transaction per declaration):")
        assess_ms = []
        for records in declarations:
            with factory() as session, session.begin():
                start = time.perf_counter()
                service.assess(session, records)
                assess_ms.append((time.perf_counter() - start) * 1000)
        summary("assess (look-ups, scoring, recorded decision)", assess_ms)
        # Bulk lodging: the same declarations, new references, 500 per transaction through assess_many.
        again = [[dataclasses.replace(r, declaration_ref=r.declaration_ref + "B") for r in d] for d in declarations]
        start = time.perf_counter()
        for offset in range(0, len(again), 500):
            with factory() as session, session.begin():
                service.assess_many(session, [(d, ()) for d in again[offset : offset + 500]], fresh=True)
        per = (time.perf_counter() - start) * 1000 / len(again)
        print(f"  {'assess_many, 500 per transaction (commit included)':<52} mean   {per:7.3f} ms per declaration")
        if args.lodge:
            lodge_rates(services, args.lodge)
        services.close()
    verdict = "OK" if statistics.median(model_ms) < 5.0 else "OVER"
    print(f"target: scoring < 5 ms median per declaration: {statistics.median(model_ms):.3f} ms {verdict}")


def lodge_rates(services: Services, count: int) -> None:
    from clearguard.declarations.plain_vault import PlainVault
    from clearguard.declarations.results import Actor
    from clearguard.declarations.samples import generate
    from clearguard.wiring import build_lifecycle

    actor = Actor(name="bench", role="system")
    print(f"lodge rate, {count} generated declarations each, one transaction per declaration (SQLite):")
    rates = {}
    # One generated set split in two: LRNs are unique per declarant across both runs.
    generated = generate(2 * count, seed=11)
    for label, docs, assessor in (
        ("risk scoring off", generated[:count], None),
        ("risk scoring on", generated[count:], services.risk),
    ):
        service = build_lifecycle(services, vault=PlainVault(), risk=assessor)
        for doc in docs[:20]:
            service.lodge(doc, actor)
        start = time.perf_counter()
        for doc in docs[20:]:
            service.lodge(doc, actor)
        elapsed = time.perf_counter() - start
        rates[label] = (count - 20) / elapsed
        print(f"  {label:<20} {rates[label]:8.0f} declarations/s")
    print(f"  ratio on/off         {rates['risk scoring on'] / rates['risk scoring off']:8.2f}")


if __name__ == "__main__":
    main()
