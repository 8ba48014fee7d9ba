"""Security staff's view: detection's alerts, their triage (acknowledge, confirm, false positive, with a
note) and alerts over time. Triage goes through DetectionService.triage, which refuses anyone named in
the alert (no one clears an alert about themselves) and records the verdict in the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from clearguard.access.principal import Principal
from clearguard.detection.service import LIST_LIMIT, DetectionService
from clearguard.errors import InputError
from clearguard.portal.charts import Bar

STATUSES = ("open", "acknowledged", "confirmed", "false_positive")
VERDICTS = ("acknowledge", "confirm", "false_positive")
NOTE_MAX = 2000


def alerts(detection: DetectionService, status: str | None) -> list[dict[str, Any]]:
    if status is not None and status not in STATUSES:
        raise InputError(f"status: one of {', '.join(STATUSES)}", field="status")
    return detection.alerts(status=status, level="alert", limit=LIST_LIMIT)


def triage(
    detection: DetectionService, principal: Principal, alert_id: int, verdict: str, note: str | None, *, source: str
) -> dict[str, Any]:
    if verdict not in VERDICTS:
        raise InputError(f"verdict: one of {', '.join(VERDICTS)}", field="verdict")
    text = (note or "").strip()
    if not text or len(text) > NOTE_MAX:
        raise InputError(f"note: between 1 and {NOTE_MAX} characters", field="note")
    return detection.triage(alert_id, verdict, text, by=principal.username, role=principal.role.value, source=source)


def by_day(items: list[dict[str, Any]], today: date, *, days: int = 14) -> list[Bar]:
    """Alerts first seen on each of the last `days` days (today included)."""
    start = today - timedelta(days=days - 1)
    counts: dict[date, int] = {}
    for item in items:
        first = datetime.fromisoformat(item["first_at"])
        day = (first if first.tzinfo is None else first.astimezone(UTC)).date()
        counts[day] = counts.get(day, 0) + 1
    dates = [start + timedelta(days=i) for i in range(days)]
    return [Bar(d.strftime("%d %b"), float(counts.get(d, 0))) for d in dates]
