"""The risk analyst's view: the model registry with each model's holdout metrics, the evaluation of the
current model beside random selection, and control and hit rates per office and channel (the same
figures as `clearguard risk models` and `clearguard risk report`). All of it is aggregate or
pseudonymised; nothing names a party."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from clearguard.portal.charts import Bar
from clearguard.risk.metrics import SHARES, share_key
from clearguard.risk.service import ModelInfo, ReportRow, RiskService

MODEL_COLOUR = "#0b5cad"
RANDOM_COLOUR = "#57606a"  # 6.2:1 on white


@dataclass(frozen=True, slots=True)
class OfficeRate:
    office: str
    declarations: int
    outcomes: int
    violations: int

    @property
    def hit_rate(self) -> float | None:
        return self.violations / self.outcomes if self.outcomes else None


@dataclass(frozen=True, slots=True)
class RiskOverview:
    models: list[ModelInfo]
    current: ModelInfo | None
    report: list[ReportRow]
    offices: list[OfficeRate]


def overview(risk: RiskService, factory: sessionmaker[Session]) -> RiskOverview:
    with factory() as session:
        models = risk.models(session)
        report = risk.report(session)
    current = next((m for m in models if m.is_current), None)
    return RiskOverview(models, current, report, office_rates(report))


def office_rates(report: list[ReportRow]) -> list[OfficeRate]:
    """The report's rows summed per office over every channel."""
    totals: dict[str, list[int]] = {}
    for row in report:
        counts = totals.setdefault(row.office, [0, 0, 0])
        counts[0] += row.declarations
        counts[1] += row.outcomes
        counts[2] += row.violations
    return [OfficeRate(office, *counts) for office, counts in sorted(totals.items())]


def hit_rate_bars(offices: list[OfficeRate]) -> list[Bar]:
    """Hit rate (violations per control outcome) per office; offices without outcomes are left out,
    as a rate of nothing is not zero."""
    return [Bar(o.office, o.hit_rate) for o in offices if o.hit_rate is not None]


def evaluation_bars(metrics: dict[str, Any], measure: str = "precision") -> list[Bar]:
    """The model's `measure` (precision or recall) at each share of lines inspected, each beside what
    random selection of the same size would give: the evaluation plot of `risk evaluate --plot`, from
    the holdout figures stored with the model."""
    if measure not in ("precision", "recall"):
        raise ValueError(f"measure: precision or recall, not {measure!r}")
    at = metrics.get("at") or {}
    random_at = (metrics.get("random") or {}).get("at") or {}
    bars: list[Bar] = []
    for share in SHARES:
        key = share_key(share)
        if key not in at:
            continue
        bars.append(Bar(f"{share:.0%} model", float(at[key][measure]), MODEL_COLOUR))
        if key in random_at:
            bars.append(Bar(f"{share:.0%} random", float(random_at[key][measure]), RANDOM_COLOUR))
    return bars
