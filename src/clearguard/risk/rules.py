"""The rules layer: watchlisted parties, restricted origin + HS combinations, value anomalies.

Pure: a rule set (from the policy YAML) applied to risk records gives explained hits. A hit forces at
least a documentary (yellow) control, whatever the model says.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from clearguard.risk.record import RiskRecord


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1, max_length=40)
    message: str = Field(min_length=1, max_length=300)


class WatchlistRule(_Rule):
    kind: Literal["watchlist"]
    party: Literal["declarant", "importer", "seller"]
    ids: frozenset[str] = Field(min_length=1)


class RestrictedOriginRule(_Rule):
    kind: Literal["restricted_origin"]
    origins: frozenset[str] = Field(min_length=1)
    # HS code prefixes (2 to 6 digits); empty means every commodity from these origins.
    hs_prefixes: tuple[Annotated[str, Field(pattern=r"^[0-9]{2,6}$")], ...] = ()


class UnitValueRule(_Rule):
    """Unit value (price per kg) far from the HS6's history, on the log scale, in standard deviations;
    or outside fixed bounds for some HS prefixes. Undervaluation is the usual revenue fraud."""

    kind: Literal["unit_value"]
    max_abs_z: float | None = Field(default=None, gt=0)
    min_history: int = Field(default=30, ge=2)
    hs_prefixes: tuple[Annotated[str, Field(pattern=r"^[0-9]{2,6}$")], ...] = ()
    min_per_kg: float | None = Field(default=None, ge=0)
    max_per_kg: float | None = Field(default=None, gt=0)


Rule = Annotated[WatchlistRule | RestrictedOriginRule | UnitValueRule, Field(discriminator="kind")]


@dataclass(frozen=True, slots=True)
class RuleHit:
    rule_id: str
    item: int
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule_id, "item": self.item, "message": self.message}


@dataclass(frozen=True, slots=True)
class UnitValueContext:
    """What the history says about one record's unit value (from the model's snapshot)."""

    z: float | None
    history: float


def _matches_prefix(hs6: str, prefixes: Sequence[str]) -> bool:
    return not prefixes or any(hs6.startswith(p) for p in prefixes)


def evaluate_rules(
    rules: Sequence[Rule],
    records: Sequence[RiskRecord],
    unit_values: Sequence[UnitValueContext] | None = None,
) -> list[RuleHit]:
    hits: list[RuleHit] = []
    for index, record in enumerate(records):
        context = unit_values[index] if unit_values is not None else None
        for rule in rules:
            if isinstance(rule, WatchlistRule):
                party = getattr(record, f"{rule.party}_id")
                if party and party in rule.ids:
                    hits.append(RuleHit(rule.id, record.item, rule.message))
            elif isinstance(rule, RestrictedOriginRule):
                if record.origin_country in rule.origins and _matches_prefix(record.hs6, rule.hs_prefixes):
                    hits.append(RuleHit(rule.id, record.item, rule.message))
            elif _unit_value_hit(rule, record, context):
                hits.append(RuleHit(rule.id, record.item, rule.message))
    return hits


def _unit_value_hit(rule: UnitValueRule, record: RiskRecord, context: UnitValueContext | None) -> bool:
    if not _matches_prefix(record.hs6, rule.hs_prefixes):
        return False
    if record.net_mass_kg > 0:
        per_kg = record.item_price / record.net_mass_kg
        if rule.min_per_kg is not None and per_kg < rule.min_per_kg:
            return True
        if rule.max_per_kg is not None and per_kg > rule.max_per_kg:
            return True
    if rule.max_abs_z is not None and context is not None and context.z is not None:
        return context.history >= rule.min_history and math.isfinite(context.z) and abs(context.z) > rule.max_abs_z
    return False
