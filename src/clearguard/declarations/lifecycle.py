"""The declaration lifecycle as a pure state machine.

lodged -> accepted | rejected (validation); accepted -> released (green, blue) | under_control
(yellow, red); under_control -> released | held | rejected (officer decision with a reason);
held -> released | rejected; amendments before release add versions; invalidation before release.
"""

from __future__ import annotations

from enum import StrEnum

from clearguard.errors import IllegalTransition


class Status(StrEnum):
    LODGED = "lodged"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNDER_CONTROL = "under_control"
    HELD = "held"
    RELEASED = "released"
    INVALIDATED = "invalidated"


class Decision(StrEnum):
    RELEASE = "release"
    HOLD = "hold"
    REJECT = "reject"


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.LODGED: frozenset({Status.ACCEPTED, Status.REJECTED}),
    Status.ACCEPTED: frozenset({Status.RELEASED, Status.UNDER_CONTROL, Status.INVALIDATED}),
    Status.UNDER_CONTROL: frozenset({Status.RELEASED, Status.HELD, Status.REJECTED, Status.INVALIDATED}),
    Status.HELD: frozenset({Status.RELEASED, Status.REJECTED, Status.INVALIDATED}),
    Status.RELEASED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.INVALIDATED: frozenset(),
}

DECISION_TARGET = {Decision.RELEASE: Status.RELEASED, Decision.HOLD: Status.HELD, Decision.REJECT: Status.REJECTED}

# Amendments are allowed until the goods are released or the declaration is closed.
AMENDABLE = frozenset({Status.ACCEPTED, Status.UNDER_CONTROL, Status.HELD})

CHANNEL_STATUS = {
    "green": Status.RELEASED,
    "blue": Status.RELEASED,  # released now, audited after clearance
    "yellow": Status.UNDER_CONTROL,
    "red": Status.UNDER_CONTROL,
}


def check_transition(current: Status, target: Status, *, mrn: str) -> None:
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final status)"
        raise IllegalTransition(
            f"status: {mrn} cannot go from {current} to {target}; allowed from {current}: {allowed}",
            field="status",
        )


def check_amendable(current: Status, *, mrn: str) -> None:
    if current not in AMENDABLE:
        raise IllegalTransition(
            f"status: {mrn} is {current}; amendments are allowed only while accepted, under control or held",
            field="status",
        )
