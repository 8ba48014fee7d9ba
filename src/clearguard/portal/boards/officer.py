"""The officer's work: the office's queue ordered by risk, why each declaration got its channel,
decisions, break-glass reads and control outcomes.

Every read goes through the DeclarationGate exactly as the API's routes do (declarations/routes.py),
so the access policy, break-glass and redaction are the API's, and each page view is the API's audit
event. Risk reasons are shown only where the role's view carries risk data (access.policy.View.risk).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from clearguard.access.policy import Action, view_for
from clearguard.access.principal import Principal
from clearguard.audit.service import AuditService, NewAuditEvent
from clearguard.db import transaction
from clearguard.declarations import declaration_summaries, declaration_view
from clearguard.declarations.gate import DeclarationGate, actor_of
from clearguard.declarations.lifecycle import Decision, Status
from clearguard.declarations.results import ListFilter
from clearguard.declarations.views import withheld
from clearguard.errors import InputError
from clearguard.risk.errors import AssessmentNotFound
from clearguard.risk.service import Assessment, RiskService

# What still awaits an officer: accepted (not yet released), under control, held.
OPEN_STATUSES = (Status.UNDER_CONTROL.value, Status.HELD.value, Status.ACCEPTED.value)
CHANNEL_LEVEL = {"red": 3, "blue": 2, "yellow": 1, "green": 0}
REASON_MAX = 2000
TOP_FEATURES = 5


@dataclass(frozen=True, slots=True)
class QueueItem:
    summary: dict[str, Any]  # as the API's list shows it to this role
    score: float | None
    basis: str | None
    random: bool
    requires_confirmation: bool

    @property
    def channel(self) -> str | None:
        channel = self.summary.get("channel")
        return channel if isinstance(channel, str) else None


@dataclass(frozen=True, slots=True)
class Reasons:
    """Why a declaration got its channel: the recorded score, its largest feature contributions and the
    rules that fired."""

    channel: str
    basis: str
    random: bool
    score: float | None
    model: str | None
    confirmed_channel: str | None
    top_features: list[dict[str, Any]]
    rule_hits: list[dict[str, Any]]


def check_reason(reason: str, *, field: str = "reason") -> str:
    text = reason.strip()
    if not text:
        raise InputError(f"{field}: must not be empty", field=field)
    if len(text) > REASON_MAX:
        raise InputError(f"{field}: at most {REASON_MAX} characters", field=field)
    return text


def check_mrn(mrn: str) -> str:
    if len(mrn) != 18 or not mrn.isascii() or not mrn.isalnum():
        raise InputError("mrn: 18 letters and digits", field="mrn")
    return mrn.upper()


def queue(
    gate: DeclarationGate,
    risk: RiskService,
    factory: sessionmaker[Session],
    principal: Principal,
    today: date,
    *,
    source: str,
    limit: int = 200,
) -> list[QueueItem]:
    """Declarations of the principal's offices that await a decision, highest risk first (recorded
    score, then channel severity, then oldest first). Each listing is the API's audited list."""
    summaries: list[dict[str, Any]] = []
    for status in OPEN_STATUSES:
        listed, _ = declaration_summaries(
            gate, principal, today, ListFilter(status=status), limit=limit, cursor=None, source=source
        )
        summaries.extend(listed)
    scores: dict[str, Assessment] = {}
    if view_for(principal.role).risk and summaries:
        with transaction(factory) as session:
            scores = risk.latest_of(session, [s["mrn"] for s in summaries])
    items = []
    for s in summaries:
        found = scores.get(s["mrn"])
        items.append(
            QueueItem(
                summary=s,
                score=found.score if found else None,
                basis=found.basis if found else None,
                random=found.random if found else False,
                requires_confirmation=found.requires_confirmation if found else False,
            )
        )
    items.sort(
        key=lambda i: (
            -(i.score if i.score is not None else -1.0),
            -CHANNEL_LEVEL.get(i.channel or "", -1),
            i.summary["created_at"],
        )
    )
    return items


def channel_counts(items: list[QueueItem]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        key = item.channel or "none"
        counts[key] = counts.get(key, 0) + 1
    return counts


def declaration(
    gate: DeclarationGate, principal: Principal, mrn: str, today: date, *, source: str, justification: str | None
) -> dict[str, Any]:
    """One declaration as the API's read gives it (policy, break-glass with its justification,
    redaction, audit), with its events as that role may see them."""
    return declaration_view(gate, principal, mrn.upper(), today, source=source, justification=justification)


def reasons(risk: RiskService, factory: sessionmaker[Session], principal: Principal, mrn: str) -> Reasons | None:
    """The recorded risk decision's reasons; None where none was recorded or the role sees no risk data.
    Call only after `declaration` (which applied the access policy to this record)."""
    if not view_for(principal.role).risk:
        return None
    try:
        with transaction(factory) as session:
            data = risk.assessment(session, mrn.upper()).to_json()
    except AssessmentNotFound:
        return None
    details = data.get("reasons") or {}
    contributions = sorted(
        details.get("contributions", []), key=lambda c: abs(float(c.get("contribution") or 0.0)), reverse=True
    )
    return Reasons(
        channel=data["channel"],
        basis=data["basis"],
        random=data["random"],
        score=data["score"],
        model=data["model"],
        confirmed_channel=data["confirmed_channel"],
        top_features=contributions[:TOP_FEATURES],
        rule_hits=list(details.get("rule_hits", [])),
    )


def decide(
    gate: DeclarationGate, principal: Principal, mrn: str, decision: str, reason: str, today: date, *, source: str
) -> dict[str, Any]:
    """Release, hold or reject, as the API's decision route: the policy's DECIDE check on the record
    (break-glass never lets an officer decide for another office), then the lifecycle."""
    try:
        chosen = Decision(decision)
    except ValueError:
        raise InputError("decision: must be release, hold or reject", field="decision") from None
    text = check_reason(reason)
    gate.check_action(principal, mrn.upper(), Action.DECIDE, today)
    summary = gate.declarations.decide(mrn.upper(), chosen, actor_of(principal, source), reason=text)
    return withheld(principal, summary.to_dict())


@dataclass(frozen=True, slots=True)
class Outcome:
    violation: bool
    critical: bool
    duty_recovered: float | None
    note: str | None


def parse_outcome(result: str, duty: str | None, note: str | None) -> Outcome:
    """The control-outcome form: `result` is none, violation or critical; duty a number >= 0 or empty."""
    if result not in ("none", "violation", "critical"):
        raise InputError("result: must be none, violation or critical", field="result")
    amount: float | None = None
    if duty is not None and duty.strip():
        try:
            amount = float(duty.strip())
        except ValueError:
            raise InputError("duty_recovered: must be a number", field="duty_recovered") from None
        if not amount >= 0 or amount == float("inf"):
            raise InputError("duty_recovered: must be a finite number >= 0", field="duty_recovered")
    text = note.strip() if note else None
    if text is not None and len(text) > REASON_MAX:
        raise InputError(f"note: at most {REASON_MAX} characters", field="note")
    return Outcome(result != "none", result == "critical", amount, text or None)


def record_outcome(
    gate: DeclarationGate,
    risk: RiskService,
    audit: AuditService,
    factory: sessionmaker[Session],
    principal: Principal,
    mrn: str,
    outcome: Outcome,
    today: date,
    *,
    source: str,
) -> int:
    """A control's outcome by an officer of the record's office (the DECIDE check), recorded with its
    audit event in one transaction; the items join the risk history. Returns the lines added."""
    ref = gate.check_action(principal, mrn.upper(), Action.DECIDE, today)
    with transaction(factory) as session:
        lines = risk.record_outcome(
            session,
            ref.mrn,
            officer=principal.username,
            violation=outcome.violation,
            critical=outcome.critical,
            duty_recovered=outcome.duty_recovered,
            note=outcome.note,
        )
        audit.record(
            session,
            NewAuditEvent(
                actor=principal.username, role=principal.role.value, action="risk.outcome", record_type="declaration",
                record_id=ref.mrn, party=None, source=source,
                details={"violation": outcome.violation, "critical": outcome.critical, "history_lines": lines},
            ),
        )  # fmt: skip
    return lines
