"""TrainingService: the one way in to staff training records, the reminders and the gate.

The gate asks the database on every privileged request (one index-only query on (username, course,
expires_on), run on the driver: training.lookup) rather than caching: a completion recorded by any
worker opens the account's privileged actions at that worker's next request, and an expiry closes
them at midnight UTC, with nothing to invalidate.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Collection
from datetime import date, datetime
from typing import Literal, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from clearguard.access.principal import Principal
from clearguard.access.roles import Perm, Role
from clearguard.audit import NewAuditEvent
from clearguard.db import transaction, utcnow
from clearguard.errors import Forbidden, NotFound
from clearguard.training.completions import Completion, TrainingGap
from clearguard.training.courses import GATE_COURSES, PRIVILEGED_ROLES, REMINDER_DAYS, course, required_courses
from clearguard.training.errors import TrainingInputInvalid, TrainingRequired
from clearguard.training.lookup import LatestExpiry
from clearguard.training.tables import CompletionRow, CourseRow

_USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_CERTIFICATE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/:#-]{0,127}$")
_OPEN = frozenset({Perm.SELF, Perm.PUBLIC})
_ORDER = {"missing": 0, "expired": 1, "expiring": 2}


class Accounts(Protocol):
    """What training needs of identity (IdentityService implements it)."""

    def account_principal(self, username: str) -> Principal: ...

    def accounts_in_roles(self, roles: Collection[Role]) -> builtins.list[Principal]: ...


class AuditTrail(Protocol):
    def record(self, session: Session, event: NewAuditEvent) -> object: ...


class TrainingService:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        accounts: Accounts,
        audit: AuditTrail,
        read_factory: sessionmaker[Session] | None = None,
        reminder_days: int = REMINDER_DAYS,
    ) -> None:
        self._factory = session_factory
        self._read = read_factory or session_factory
        self._accounts = accounts
        self._audit = audit
        self.reminder_days = reminder_days
        self._latest_expiry = LatestExpiry(self._read)

    # ------------------------------------------------------------------ recording
    def record(
        self,
        username: str,
        course_slug: str,
        completed: date,
        expires: date,
        *,
        certificate: str | None = None,
        by: str,
        role: str,
        source: str,
        now: datetime | None = None,
    ) -> Completion:
        """Record one completion and its audit event in one transaction. Refuses, changing nothing: an
        unknown account or course, a completion in the future, an expiry not after the completion, a
        malformed certificate reference, and an account recording its own training."""
        now = now or utcnow()
        found = course(course_slug)
        if completed > now.date():
            raise TrainingInputInvalid(
                f"completed: {completed.isoformat()} is in the future (today is {now.date().isoformat()})",
                field="completed",
            )
        if expires <= completed:
            raise TrainingInputInvalid(
                f"expires: {expires.isoformat()} must be after the completed date {completed.isoformat()}",
                field="expires",
            )
        reference = _certificate(certificate)
        account = self._accounts.account_principal(_username(username))
        if account.username == by.strip().lower():
            # Separation of duties: the gate would mean nothing if its subject could open it.
            raise Forbidden("username: an account may not record its own training", field="username")
        row = CompletionRow(
            username=account.username,
            course=found.slug,
            completed_on=completed,
            expires_on=expires,
            certificate=reference,
            recorded_by=by[:128],
            recorded_at=now,
        )
        with transaction(self._factory) as session:
            if session.get(CourseRow, found.slug) is None:
                session.add(
                    CourseRow(
                        slug=found.slug,
                        title=found.title,
                        validity_days=found.validity_days,
                        required_for_privileged=found.required_for_privileged,
                    )
                )
                session.flush()
            session.add(row)
            self._audit.record(
                session,
                NewAuditEvent(
                    actor=by[:128],
                    role=role,
                    action="training.record",
                    record_type="account",
                    record_id=account.username,
                    party=None,
                    source=source,
                    details={
                        "course": found.slug,
                        "completed": completed.isoformat(),
                        "expires": expires.isoformat(),
                        "certificate": reference,
                    },
                ),
            )
        return _completion(row)

    # ------------------------------------------------------------------ reading
    def list(self, username: str | None = None) -> builtins.list[Completion]:
        """Completions, newest first per account and course; one account's when `username` is given."""
        query = select(CompletionRow).order_by(
            CompletionRow.username, CompletionRow.course, CompletionRow.completed_on.desc(), CompletionRow.id.desc()
        )
        if username is not None:
            query = query.where(CompletionRow.username == _username(username).lower())
        with self._read() as session:
            return [_completion(r) for r in session.scalars(query)]

    def due(self, now: datetime, *, within_days: int | None = None) -> builtins.list[TrainingGap]:
        """Reminders: every enabled account's required course that is missing, expired or expiring
        within `within_days` (default: the reminder period), and any other course it completed whose
        latest completion has expired or expires within that period."""
        return self._gaps(now, within_days=self._within(within_days), roles=builtins.list(Role), required_only=False)

    def privileged_gaps(self, now: datetime) -> builtins.list[TrainingGap]:
        """The privileged accounts whose required training is missing, expired or expiring within the
        reminder period: what the security self-audit reports."""
        return self._gaps(now, within_days=self.reminder_days, roles=PRIVILEGED_ROLES, required_only=True)

    def gaps_of(self, principal: Principal, now: datetime) -> builtins.list[TrainingGap]:
        """One account's own gaps (its `/training/me`)."""
        latest = self._latest(usernames=[principal.username])
        return _account_gaps(principal, latest, now.date(), self.reminder_days, required_only=False)

    # ------------------------------------------------------------------ the gate
    def gate(self, principal: Principal, permission: str, now: datetime) -> None:
        """Refuse a privileged role's privileged action without current training in every required
        course (TrainingRequired, a 403). Signing in and the account's own authenticators stay open."""
        if permission in _OPEN or principal.role not in PRIVILEGED_ROLES:
            return
        latest = self._latest_expiry.latest(principal.username)
        today = now.date()
        for slug in GATE_COURSES:
            expires = latest.get(slug)
            if expires is None:
                why, status = f"never recorded for {principal.username}", "missing"
            elif today >= expires:
                why, status = f"expired on {expires.isoformat()} for {principal.username}", "expired"
            else:
                continue
            raise TrainingRequired(
                f"training required: course {slug} {why}",
                extra={"course": slug, "training_status": status},
            )

    def gate_operator(self, name: str, permission: str, now: datetime | None = None) -> None:
        """The gate for a CLI command acting as a named operator (CLEARGUARD_OPERATOR, `--officer`):
        an account in a privileged role is gated as on the API. A name that is no account is the
        server's own operator at the console (root on the machine, who holds the keys anyway)."""
        try:
            principal = self._accounts.account_principal(name)
        except NotFound:
            return
        self.gate(principal, permission, now or utcnow())

    # ------------------------------------------------------------------ internals
    def _within(self, within_days: int | None) -> int:
        days = self.reminder_days if within_days is None else within_days
        if not 0 <= days <= 3660:
            raise TrainingInputInvalid(f"within: {days} is not a number of days from 0 to 3660", field="within")
        return days

    def _latest(self, usernames: Collection[str] | None = None) -> dict[tuple[str, str], date]:
        query = select(CompletionRow.username, CompletionRow.course, func.max(CompletionRow.expires_on)).group_by(
            CompletionRow.username, CompletionRow.course
        )
        if usernames is not None:
            query = query.where(CompletionRow.username.in_(builtins.list(usernames)))
        with self._read() as session:
            return {(u, c): e for u, c, e in session.execute(query)}

    def _gaps(
        self, now: datetime, *, within_days: int, roles: Collection[Role], required_only: bool
    ) -> builtins.list[TrainingGap]:
        accounts = self._accounts.accounts_in_roles(roles)
        latest = self._latest()
        today = now.date()
        gaps = [
            gap
            for account in accounts
            for gap in _account_gaps(account, latest, today, within_days, required_only=required_only)
        ]
        return sorted(gaps, key=lambda g: (_ORDER[g.status], g.username, g.course))


def _account_gaps(
    account: Principal,
    latest: dict[tuple[str, str], date],
    today: date,
    within_days: int,
    *,
    required_only: bool,
) -> builtins.list[TrainingGap]:
    required = required_courses(account.role)
    courses = builtins.list(required)
    if not required_only:
        courses += sorted(c for (u, c) in latest if u == account.username and c not in required)
    gaps: list[TrainingGap] = []
    for slug in courses:
        expires = latest.get((account.username, slug))
        status: Literal["missing", "expired", "expiring"]
        if expires is None:
            status, reason = "missing", f"course {slug} never recorded for {account.username}"
        elif today >= expires:
            status, reason = "expired", f"course {slug} expired on {expires.isoformat()}"
        elif (expires - today).days <= within_days:
            days = (expires - today).days
            status, reason = "expiring", f"course {slug} expires on {expires.isoformat()} (in {days} days)"
        else:
            continue
        if slug in required:
            reason += f"; required for the {account.role.value} role"
        gaps.append(TrainingGap(account.username, account.role.value, slug, status, reason))
    return gaps


def _username(value: str) -> str:
    text = value.strip()
    if not _USERNAME.fullmatch(text):
        raise TrainingInputInvalid("username: 1 to 64 characters: letters, digits and . _ -", field="username")
    return text


def _certificate(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not _CERTIFICATE.fullmatch(text):
        raise TrainingInputInvalid(
            "certificate: a reference of 1 to 128 characters: letters, digits, space and . _ / : # -",
            field="certificate",
        )
    return text


def _completion(row: CompletionRow) -> Completion:
    return Completion(
        username=row.username,
        course=row.course,
        completed_on=row.completed_on,
        expires_on=row.expires_on,
        certificate=row.certificate,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )
