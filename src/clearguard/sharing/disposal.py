"""Received packages past the retention date their agreement set, as retention runs dispose of them:
the claims go, the row keeps its digest and ledger commitment (which never held them), so the
ledger still verifies and `sharing show` says the claims are disposed of."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from clearguard.sharing.tables import SharingPackageRow


def _due(as_of: datetime) -> Select[tuple[SharingPackageRow]]:
    return select(SharingPackageRow).where(
        SharingPackageRow.direction == "received",
        SharingPackageRow.sealed.is_not(None),
        SharingPackageRow.retain_until < as_of.date(),
    )


class ReceivedPackages:
    """The retention run's port (`OtherRecords`) over received exchange packages."""

    count_key = "exchange_packages"

    def count_due(self, session: Session, *, as_of: datetime, audit_before: datetime | None) -> int:
        return int(session.scalar(select(func.count()).select_from(_due(as_of).subquery())) or 0)

    def dispose_due(self, session: Session, *, as_of: datetime, audit_before: datetime | None) -> int:
        return len(dispose(session, as_of))


def dispose(session: Session, as_of: datetime) -> list[str]:
    """Deletes the claims of the received packages due at `as_of`; their ids, sorted."""
    rows = session.execute(_due(as_of)).scalars().all()
    for row in rows:
        row.sealed, row.disposed_at = None, as_of
    return sorted(row.id for row in rows)
