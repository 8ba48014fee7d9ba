"""Alerts and notices as stored (one row per incident), their triage, and the suppressions that a
false-positive verdict leaves behind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clearguard.detection.engine import Finding
from clearguard.detection.errors import DetectionInputError
from clearguard.detection.tables import AlertRow, SuppressionRow
from clearguard.errors import NotFound

STATUSES: Final = ("open", "acknowledged", "confirmed", "false_positive")
VERDICTS: Final = {"acknowledge": "acknowledged", "confirm": "confirmed", "false_positive": "false_positive"}
NOTE_LIMIT: Final = 2000
# How long a false-positive verdict keeps the same noise from being raised again.
SUPPRESSION_DAYS: Final = 30


@dataclass(frozen=True, slots=True)
class Suppression:
    rule: str
    actor: str | None
    source: str | None
    until: datetime | None = None  # a verdict is about the noise of its time, not forever

    def matches(self, finding: Finding) -> bool:
        return (
            finding.rule == self.rule
            and (self.until is None or finding.at < self.until)
            and (self.actor is None or self.actor in finding.actors)
            and (self.source is None or self.source in finding.sources)
        )


def alert_dict(row: AlertRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "incident": row.incident,
        "level": row.level,
        "rule": row.rule,
        "kind": row.kind,
        "severity": row.severity,
        "actors": list(row.actors),
        "sources": list(row.sources),
        "first_at": row.first_at.isoformat(),
        "last_at": row.last_at.isoformat(),
        "explanation": row.explanation,
        "features": dict(row.features),
        "findings": row.findings,
        "status": row.status,
        "notes": list(row.notes),
        "responses": list(row.responses),
    }


def store_finding(session: Session, finding: Finding) -> AlertRow:
    """One row per incident: a finding of a stored incident extends it."""
    row = session.execute(select(AlertRow).where(AlertRow.incident == finding.incident)).scalar_one_or_none()
    if row is not None:
        row.last_at = max(row.last_at, finding.at)
        row.findings += 1
        return row
    row = AlertRow(
        incident=finding.incident,
        level=finding.level,
        rule=finding.rule,
        kind=finding.kind,
        severity=finding.severity,
        actors=list(finding.actors),
        sources=list(finding.sources),
        first_at=finding.first_at,
        last_at=finding.at,
        explanation=finding.explanation,
        features={k: float(v) for k, v in finding.features.items()},
        findings=1,
        status="open",
        notes=[],
        responses=[],
    )
    session.add(row)
    session.flush()
    return row


def extend(session: Session, incident: str, last_at: datetime, findings: int) -> None:
    session.execute(
        update(AlertRow)
        .where(AlertRow.incident == incident, AlertRow.last_at < last_at)
        .values(last_at=last_at, findings=findings)
    )


def get(session: Session, alert_id: int) -> AlertRow:
    row = session.get(AlertRow, alert_id)
    if row is None:
        raise NotFound(f"id: no alert {alert_id}", field="id")
    return row


def listing(session: Session, *, status: str | None, level: str | None, limit: int) -> list[AlertRow]:
    stmt = select(AlertRow)
    if status is not None:
        if status not in STATUSES:
            raise DetectionInputError(f"status: one of {', '.join(STATUSES)}", field="status")
        stmt = stmt.where(AlertRow.status == status)
    if level is not None:
        stmt = stmt.where(AlertRow.level == level)
    return list(session.execute(stmt.order_by(AlertRow.last_at.desc(), AlertRow.id.desc()).limit(limit)).scalars())


def check_verdict(verdict: str, note: str) -> tuple[str, str]:
    """(the status the verdict sets, the note stripped); bad input names the field."""
    status = VERDICTS.get(verdict)
    if status is None:
        raise DetectionInputError(f"verdict: one of {', '.join(VERDICTS)}", field="verdict")
    stripped = note.strip()
    if not stripped or len(stripped) > NOTE_LIMIT or "\x00" in stripped:
        raise DetectionInputError(f"note: required, at most {NOTE_LIMIT} characters, no NUL", field="note")
    return status, stripped


def triage(session: Session, row: AlertRow, status: str, note: str, *, by: str, at: datetime) -> list[Suppression]:
    """Sets the verdict and adds the note. A false positive suppresses the rule for exactly the
    alert's actors and sources (one suppression per actor, or per source when it names no actor),
    so the same benign pattern is not raised again and everything else still is."""
    row.status = status
    row.notes = [*row.notes, {"at": at.isoformat(), "by": by, "verdict": status, "note": note}]
    added: list[Suppression] = []
    if status == "false_positive":
        # Per (actor, source) pair: noise that anyone can make in an account's name (failed logins)
        # must not blind detection to the same rule from another source; and for SUPPRESSION_DAYS.
        actors: list[str | None] = list(row.actors) or [None]
        sources: list[str | None] = list(row.sources) or [None]
        for actor in actors:
            for source in sources:
                session.add(
                    SuppressionRow(
                        rule=row.rule, actor=actor, source=source, alert_id=row.id, created_at=at, created_by=by
                    )
                )
                added.append(Suppression(row.rule, actor, source, at + timedelta(days=SUPPRESSION_DAYS)))
    return added


def suppressions(session: Session) -> list[Suppression]:
    rows = session.execute(
        select(SuppressionRow.rule, SuppressionRow.actor, SuppressionRow.source, SuppressionRow.created_at)
    ).all()
    return [
        Suppression(rule, actor, source, created + timedelta(days=SUPPRESSION_DAYS))
        for rule, actor, source, created in rows
    ]


def add_response(session: Session, alert_id: int, entries: list[dict[str, Any]]) -> None:
    row = session.get(AlertRow, alert_id)
    if row is not None and entries:
        row.responses = [*row.responses, *entries]


# Alerts the security self-audit raises: one per check that newly fails (clearguard.posture).
POSTURE_RULE: Final = "posture.fail"
_HIGH: Final = ("high", "critical")


@dataclass(frozen=True, slots=True)
class OpenAlerts:
    """Open alerts (level `alert`, status `open`), the self-audit's own excepted: it reports those as
    its failing checks."""

    count: int
    high: int  # of severity high or critical
    oldest_high_at: datetime | None  # first_at of the oldest open high or critical one


def open_alerts(session: Session) -> OpenAlerts:
    base = (AlertRow.level == "alert", AlertRow.status == "open", AlertRow.rule != POSTURE_RULE)
    count = session.execute(select(func.count()).select_from(AlertRow).where(*base)).scalar_one()
    high, oldest = session.execute(
        select(func.count(), func.min(AlertRow.first_at)).where(*base, AlertRow.severity.in_(_HIGH))
    ).one()
    return OpenAlerts(int(count), int(high), oldest)
