"""Activity events as retention runs dispose of them: each mirrors an audit event (or a request
refused at the edge), so it goes when the audit trail's period ends for events of its time. Alerts
keep their own summary (actors, sources, explanation) for the security record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from clearguard.detection.tables import ActivityRow


class ActivityRecords:
    """The retention run's port (`OtherRecords`) over the activity store."""

    count_key = "activity_events"

    def count_due(self, session: Session, *, as_of: datetime, audit_before: datetime | None) -> int:
        if audit_before is None:
            return 0
        return int(session.scalar(select(func.count()).where(ActivityRow.at < audit_before)) or 0)

    def dispose_due(self, session: Session, *, as_of: datetime, audit_before: datetime | None) -> int:
        if audit_before is None:
            return 0
        result = session.execute(delete(ActivityRow).where(ActivityRow.at < audit_before))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
