"""The DPO's view: retention policies, legal holds (place and release), data subject requests,
subject access reports and agreements with partner administrations, each through its capability's
service exactly as the API's routes call it (retention/routes.py, privacy/routes.py), so the same
checks and audit events apply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from clearguard.access.principal import Principal
from clearguard.declarations.results import Actor
from clearguard.errors import InputError
from clearguard.privacy.report import MEDIA_TYPES, render
from clearguard.privacy.service import PrivacyService
from clearguard.retention.holds import Hold
from clearguard.retention.service import RetentionService
from clearguard.sharing.service import SharingService

_TEXT = {"reason": 2000, "owner": 80, "case": 80}


@dataclass(frozen=True, slots=True)
class DpoOverview:
    policies: list[dict[str, Any]]
    holds: list[dict[str, Any]]
    requests: list[dict[str, Any]]
    agreements: list[dict[str, Any]] | None  # None: sharing is not configured here


def actor(principal: Principal, source: str) -> Actor:
    return Actor(name=principal.username, role=principal.role.value, source=source)


def overview(
    retention: RetentionService,
    privacy: PrivacyService,
    sharing: SharingService | None,
    principal: Principal,
    *,
    source: str,
) -> DpoOverview:
    return DpoOverview(
        policies=retention.policy_list(),
        holds=[h.to_dict() for h in retention.list_holds(active_only=True)],
        requests=privacy.list_requests(actor(principal, source)),
        agreements=sharing.list_agreements() if sharing is not None else None,
    )


def _text(name: str, value: str | None, *, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise InputError(f"{name}: must not be empty", field=name)
        return None
    if len(text) > _TEXT[name]:
        raise InputError(f"{name}: at most {_TEXT[name]} characters", field=name)
    return text


def add_hold(
    retention: RetentionService,
    principal: Principal,
    *,
    party: str | None,
    mrn: str | None,
    case: str | None,
    reason: str | None,
    owner: str | None,
    review: str | None,
    source: str,
) -> Hold:
    """A hold on a trader (EORI) or one declaration (MRN), as POST /api/v1/retention/holds places it."""
    eori = (party or "").strip().upper() or None
    number = (mrn or "").strip().upper() or None
    if (eori is None) == (number is None):
        raise InputError("party: give either a trader's EORI or an MRN", field="party")
    review_date: date | None = None
    if review and review.strip():
        try:
            review_date = date.fromisoformat(review.strip())
        except ValueError:
            raise InputError("review: a date as YYYY-MM-DD", field="review") from None
    return retention.add_hold(
        party=eori, mrn=number, case_id=_text("case", case, required=False),
        reason=_text("reason", reason, required=True) or "", owner=_text("owner", owner, required=True) or "",
        review=review_date, actor=principal.username, role=principal.role.value, source=source,
    )  # fmt: skip


def release_hold(
    retention: RetentionService, principal: Principal, hold_id: int, reason: str | None, *, source: str
) -> Hold:
    return retention.release_hold(
        hold_id, reason=_text("reason", reason, required=True) or "", actor=principal.username,
        role=principal.role.value, source=source,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Report:
    body: bytes
    media_type: str
    filename: str


def subject_access(
    privacy: PrivacyService, principal: Principal, eori: str | None, output: str, *, source: str
) -> Report:
    """A subject access report (GDPR Art. 15) on a trader, as POST /api/v1/privacy/subject-access
    makes it (audited by the privacy service); handed over as a download, never rendered into the
    portal's page."""
    if output not in MEDIA_TYPES:
        raise InputError(f"format: one of {', '.join(MEDIA_TYPES)}", field="format")
    text = (eori or "").strip()
    if not text:
        raise InputError("party: a trader's EORI", field="party")
    subject = privacy.trader(text)
    report = privacy.subject_access(subject, actor(principal, source), output=output)
    return Report(render(report, output), MEDIA_TYPES[output], f"subject-access.{output}")
