"""Compliance validation cost: µs per declaration for ComplianceService.validate (the shipped rule
pack and reference data), against the nearest baseline, the pydantic parse of the same documents
(JSON text to model), in the same run. This figure replaces the timed unit test that asserted
< 100 µs (issue 18: no wall-clock assertions in tests).

    .venv/bin/python bench/compliance.py [--count 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import time

from clearguard.compliance.service import ComplianceService
from clearguard.declaration_model import H1Declaration, H7Declaration
from clearguard.declarations.samples import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    docs = generate(args.count, seed=7)
    texts = [(json.dumps(d), H1Declaration if d["type"] == "H1" else H7Declaration) for d in docs]
    models = [model.model_validate_json(text) for text, model in texts]
    service = ComplianceService()

    def lookup(eori: str, lrn: str) -> bool:
        return False

    def best_us(work: object) -> float:
        best = float("inf")
        for _ in range(args.rounds):
            start = time.perf_counter()
            work()  # type: ignore[operator]
            best = min(best, (time.perf_counter() - start) / len(docs) * 1e6)
        return best

    def validate_all() -> None:
        for model in models:
            service.validate(model, lrn_in_use=lookup)

    def parse_all() -> None:
        for text, model in texts:
            model.model_validate_json(text)

    validate_all()  # warm the caches
    validate = best_us(validate_all)
    baseline = best_us(parse_all)
    print(f"compliance validation, {len(docs)} generated declarations, best of {args.rounds} rounds (one process):")
    print(f"  validate (rule pack + reference data) {validate:8.1f} µs/declaration")
    print(f"  baseline: pydantic parse alone        {baseline:8.1f} µs/declaration")
    print(f"  ratio validate/parse                  {validate / baseline:8.2f}")


if __name__ == "__main__":
    main()
