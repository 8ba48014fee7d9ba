"""An injectable clock, so that TOTP windows, token expiry and lock-outs are tested with frozen time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """Stands still until moved; tests advance it explicitly."""

    def __init__(self, at: datetime | None = None) -> None:
        self._at = at or datetime(2026, 1, 15, 9, 0, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, seconds: float = 0, **kwargs: float) -> None:
        self._at += timedelta(seconds=seconds, **kwargs)

    def set(self, at: datetime) -> None:
        self._at = at
