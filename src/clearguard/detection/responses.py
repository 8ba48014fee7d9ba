"""Responses by policy (pure): which actions an alert calls for, and on whom.

Only an alert (never a notice) that is confirmed by security staff, or raised with high or critical
severity, calls for a response; and only on actors who did something successfully during the
incident (the caller checks the activity store), so that failed logins alone, which anyone can
make in anyone's name, never lock an account or end its sessions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from clearguard.detection.errors import DetectionInputError

RESPONSES: Final = ("require_step_up", "revoke_sessions", "lock")
HIGH: Final = frozenset({"high", "critical"})


@dataclass(frozen=True, slots=True)
class ResponsePolicy:
    on_confirmed: tuple[str, ...] = ("revoke_sessions", "lock")
    on_high: tuple[str, ...] = ("require_step_up",)
    lock_seconds: int = 3600

    def __post_init__(self) -> None:
        for name, chosen in (("detection_response_confirmed", self.on_confirmed),
                             ("detection_response_high", self.on_high)):  # fmt: skip
            unknown = [r for r in chosen if r not in RESPONSES]
            if unknown:
                raise DetectionInputError(f"{name}: {unknown[0]!r} is not one of {', '.join(RESPONSES)}", field=name)

    def on_raise(self, level: str, severity: str) -> tuple[str, ...]:
        """Responses taken as a new alert is raised, before anyone triages it."""
        return self.on_high if level == "alert" and severity in HIGH else ()

    def on_verdict(self, level: str, status: str, already: Iterable[str]) -> tuple[str, ...]:
        """Responses taken when security staff confirm an alert (those not already taken)."""
        if level != "alert" or status != "confirmed":
            return ()
        done = set(already)
        return tuple(r for r in self.on_confirmed if r not in done)
