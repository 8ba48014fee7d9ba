"""Validation stays cheap: the lifecycle budget allows well under 100 µs per declaration.

Measured here at about 15 µs for the two-item H1 example; the bound is loose so a busy shared
machine does not make the test flaky, while a per-call YAML parse or regex compile would break it.
"""

from __future__ import annotations

import time

from clearguard.compliance.service import ComplianceService

from .conftest import example, parse
from .test_rules import H1, H7


def test_validation_cost_per_declaration(service: ComplianceService) -> None:
    declarations = [parse(example(H1)), parse(example(H7))]

    def lookup(eori: str, lrn: str) -> bool:
        return False

    rounds = 2000
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(rounds):
            for declaration in declarations:
                service.validate(declaration, lrn_in_use=lookup)
        best = min(best, (time.perf_counter() - start) / (rounds * len(declarations)))
    assert best < 100e-6, f"{best * 1e6:.1f} µs per declaration"
