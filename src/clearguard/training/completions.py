"""What the training service hands out: completions, gaps, and the day parser shared by CLI and API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from clearguard.training.errors import TrainingInputInvalid

Standing = Literal["current", "expiring", "expired"]


def parse_day(value: str, field: str) -> date:
    """An ISO 8601 calendar date (YYYY-MM-DD), or an error naming the field."""
    text = value.strip()
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise TrainingInputInvalid(
            f"{field}: {value[:32]!r} is not a date in the form YYYY-MM-DD", field=field
        ) from None


@dataclass(frozen=True, slots=True)
class Completion:
    username: str
    course: str
    completed_on: date
    # The first day on which the training no longer counts (expired on that date).
    expires_on: date
    certificate: str | None
    recorded_by: str
    recorded_at: datetime

    def standing(self, today: date, *, within_days: int) -> Standing:
        if today >= self.expires_on:
            return "expired"
        return "expiring" if (self.expires_on - today).days <= within_days else "current"

    def to_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "course": self.course,
            "completed": self.completed_on.isoformat(),
            "expires": self.expires_on.isoformat(),
            "certificate": self.certificate,
            "recorded_by": self.recorded_by,
            "recorded_at": self.recorded_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class TrainingGap:
    """One account's missing, expired or soon expiring course (the self-audit reads these)."""

    username: str
    role: str
    course: str
    status: Literal["missing", "expired", "expiring"]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "role": self.role,
            "course": self.course,
            "status": self.status,
            "reason": self.reason,
        }
