"""Helpers for the risk unit tests: the KCS data read in place, small record factories.

A uniquely named module (not conftest) so that imports never pick another folder's helpers."""

from __future__ import annotations

import os
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from clearguard.risk.kcs import parse_kcs
from clearguard.risk.record import RiskRecord
from tests.helpers import KCS

# Read in place, never copied into the repository (MIT licence, third-party data).
KCS_DIR = Path(os.environ.get("CLEARGUARD_KCS_DIR", KCS))


def make_record(**overrides: Any) -> RiskRecord:
    fields: dict[str, Any] = {
        "declaration_ref": "D1",
        "item": 1,
        "date": date(2020, 1, 1),
        "office": "30",
        "procedure": "11",
        "hs6": "392690",
        "origin_country": "CN",
        "departure_country": "CN",
        "transport_mode": "10",
        "tax_rate": 8.0,
        "tax_type": "A",
        "net_mass_kg": 100.0,
        "item_price": 5000.0,
        "declarant_id": "DECL1",
        "importer_id": "IMP1",
        "seller_id": "SELL1",
        "fraud": 0,
        "critical": 0,
    }
    fields.update(overrides)
    return RiskRecord(**fields)


def synthetic_history(n: int = 3000, seed: int = 1) -> list[RiskRecord]:
    """Records whose outcome depends on the declarant and the unit value: learnable, not trivial."""
    rng = random.Random(seed)
    declarants = [f"D{i}" for i in range(60)]
    bad = set(declarants[:8])
    out: list[RiskRecord] = []
    for i in range(n):
        declarant = rng.choice(declarants)
        hs6 = rng.choice(["392690", "850440", "071080", "950300", "630790"])
        mass = rng.uniform(10, 1000)
        price = mass * rng.uniform(5, 50)
        risk = 0.6 if declarant in bad else 0.08
        if price / mass < 10:
            risk += 0.2
        fraud = int(rng.random() < risk)
        out.append(
            make_record(
                declaration_ref=f"S{i}",
                date=date(2020, 1, 1) + timedelta(days=i * 300 // n),
                office=rng.choice(["10", "20", "30"]),
                hs6=hs6,
                origin_country=rng.choice(["CN", "VN", "US"]),
                net_mass_kg=mass,
                item_price=price,
                declarant_id=declarant,
                importer_id=f"I{rng.randrange(200)}",
                seller_id=rng.choice(["", f"S{rng.randrange(50)}"]),
                fraud=fraud,
                critical=fraud,
            )
        )
    return out


_CACHE: dict[str, list[RiskRecord]] = {}


def load_kcs(name: str) -> list[RiskRecord]:
    if name not in _CACHE:
        with (KCS_DIR / name).open(encoding="utf-8", newline="") as handle:
            _CACHE[name] = parse_kcs(handle).records
    return _CACHE[name]
