"""What risk exchanges with lodging: the findings it reads, and the outcome it answers.

Both types are risk's own, so risk imports nothing of the declarations lifecycle (which sits above it):
the lifecycle's RiskAssessor port names RiskOutcome, and compliance's Finding satisfies
ReviewFinding by shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class ReviewFinding(Protocol):
    """A compliance finding as risk reads it: review findings become rule hits."""

    @property
    def rule_id(self) -> str: ...

    @property
    def message(self) -> str: ...

    @property
    def severity(self) -> str:
        """One of error, warning, review (a str enum counts)."""
        ...


@dataclass(frozen=True, slots=True)
class RiskOutcome:
    channel: str  # green | yellow | red | blue
    score: float | None = None
    reasons: dict[str, Any] = field(default_factory=dict)
