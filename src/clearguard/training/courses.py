"""The course catalogue, and which roles a course gates.

`data-protection` is what the gate asks of every privileged role (the staff who see or decide on
protected data, or hold the keys and accounts that guard it). `security-awareness` is recorded and
reminded like any course but gates nothing: the seeds ask for data-protection training of personnel
handling personal data, and refusing work for a lapsed awareness course would only teach people to
work around the gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from clearguard.access.roles import Role
from clearguard.training.errors import TrainingInputInvalid

# The administration's own staff; traders, brokers and partners are outside its training duty.
PRIVILEGED_ROLES: Final = frozenset(
    {Role.OFFICER, Role.RISK_ANALYST, Role.AUDITOR, Role.DPO, Role.ADMIN, Role.SECURITY}
)
# How far ahead `training due` reminds of an expiry by default.
REMINDER_DAYS: Final = 30


@dataclass(frozen=True, slots=True)
class Course:
    slug: str
    title: str
    # A completion's usual validity, offered as the default expiry (`--expires` may say otherwise).
    validity_days: int
    # Current training in this course is required for every privileged role (the gate).
    required_for_privileged: bool


CATALOGUE: Final[dict[str, Course]] = {
    c.slug: c
    for c in (
        Course("data-protection", "Data protection for customs staff", 365, required_for_privileged=True),
        Course("security-awareness", "Security awareness", 365, required_for_privileged=False),
    )
}
GATE_COURSES: Final = tuple(c.slug for c in CATALOGUE.values() if c.required_for_privileged)


def course(slug: str) -> Course:
    found = CATALOGUE.get(slug.strip().lower())
    if found is None:
        raise TrainingInputInvalid(
            f"course: unknown course {slug[:64]!r} (known: {', '.join(sorted(CATALOGUE))})", field="course"
        )
    return found


def required_courses(role: Role) -> tuple[str, ...]:
    return GATE_COURSES if role in PRIVILEGED_ROLES else ()
