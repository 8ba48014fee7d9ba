"""What the self-audit needs from capabilities that live beside or above it, as ports: the training
records (clearguard.training, wired in wiring.py when present), the alert sink (detection), and the
lock that keeps the daily run to one worker (clearguard.duties.DutyLock)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, Protocol


class TrainingGap(Protocol):
    """One privileged account's missing, expired or expiring course (clearguard.training)."""

    @property
    def username(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def course(self) -> str: ...
    @property
    def status(self) -> Literal["missing", "expired", "expiring"]: ...
    @property
    def reason(self) -> str: ...


class TrainingGaps(Protocol):
    def privileged_gaps(self, now: datetime) -> Sequence[TrainingGap]: ...


class AlertSink(Protocol):
    def raise_posture_fail(self, check: str, reason: str, asvs: str, *, at: datetime) -> int: ...


class Duty(Protocol):
    """A database lock on a background duty: one holder across every worker."""

    def try_acquire(self) -> bool: ...
    def release(self) -> None: ...
