"""What a rule reports before the Detector turns it into a finding (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Level = Literal["alert", "notice"]
Severity = Literal["low", "medium", "high", "critical"]


@dataclass(frozen=True, slots=True)
class RuleHit:
    rule: str  # the rule's name (Sigma `name`, else its id)
    kind: str  # what it detects, e.g. brute_force
    level: Level
    severity: Severity
    group: tuple[tuple[str, str], ...]  # group-by field and value, in the rule's order
    actors: tuple[str, ...]
    sources: tuple[str, ...]
    first_at: datetime
    at: datetime
    explanation: str
