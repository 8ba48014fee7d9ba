"""The catalogue, the day parser and a completion's standing: pure, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from clearguard.access.roles import Role
from clearguard.training import PRIVILEGED_ROLES, Completion, TrainingInputInvalid, parse_day
from clearguard.training.courses import GATE_COURSES, course, required_courses


def test_privileged_roles_are_the_administrations_staff() -> None:
    assert set(PRIVILEGED_ROLES) == {
        Role.OFFICER, Role.RISK_ANALYST, Role.AUDITOR, Role.DPO, Role.ADMIN, Role.SECURITY,
    }  # fmt: skip
    for outside in (Role.TRADER, Role.BROKER, Role.PARTNER):
        assert required_courses(outside) == ()
    assert required_courses(Role.ADMIN) == ("data-protection",) == GATE_COURSES


def test_course_lookup_names_the_field() -> None:
    assert course(" Data-Protection ").slug == "data-protection"
    with pytest.raises(TrainingInputInvalid) as refused:
        course("underwater-basket-weaving")
    assert refused.value.field == "course" and "data-protection" in refused.value.detail
    assert refused.value.exit_code == 2


@pytest.mark.parametrize("text", ["2026-13-01", "2026-02-30", "01/02/2026", "2026-1-5", "", "20260105", "tomorrow"])
def test_bad_days_are_refused_naming_the_field(text: str) -> None:
    with pytest.raises(TrainingInputInvalid) as refused:
        parse_day(text, "completed")
    assert refused.value.field == "completed" and refused.value.detail.startswith("completed:")


def test_a_day_parses() -> None:
    assert parse_day(" 2026-02-28 ", "expires") == date(2026, 2, 28)


def test_standing_expires_on_the_expiry_day() -> None:
    c = Completion("alice", "data-protection", date(2025, 6, 1), date(2026, 6, 1), None, "x", datetime.now(UTC))
    assert c.standing(date(2026, 4, 1), within_days=30) == "current"
    assert c.standing(date(2026, 5, 2), within_days=30) == "expiring"
    assert c.standing(date(2026, 5, 31), within_days=30) == "expiring"
    assert c.standing(date(2026, 6, 1), within_days=30) == "expired"
