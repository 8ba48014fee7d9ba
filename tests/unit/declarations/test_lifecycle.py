import pytest

from clearguard.declarations.lifecycle import TRANSITIONS, Status, check_amendable, check_transition
from clearguard.errors import IllegalTransition

ALLOWED = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}


@pytest.mark.parametrize("current", list(Status))
@pytest.mark.parametrize("target", list(Status))
def test_every_pair_of_statuses(current: Status, target: Status) -> None:
    if (current, target) in ALLOWED:
        check_transition(current, target, mrn="X")
    else:
        with pytest.raises(IllegalTransition, match=f"cannot go from {current} to {target}"):
            check_transition(current, target, mrn="X")


def test_final_statuses_allow_nothing() -> None:
    for final in (Status.RELEASED, Status.REJECTED, Status.INVALIDATED):
        assert TRANSITIONS[final] == frozenset()


def test_released_declarations_cannot_be_amended() -> None:
    with pytest.raises(IllegalTransition, match="amendments are allowed only"):
        check_amendable(Status.RELEASED, mrn="X")
    check_amendable(Status.UNDER_CONTROL, mrn="X")
