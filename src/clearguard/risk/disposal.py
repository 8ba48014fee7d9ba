"""Disposal of a declaration's risk records under a retention policy: its assessments (with their
sealed scored records), its control outcome and the training lines its outcome added. Imported
pseudonymous history (KCS) belongs to no live declaration and is left alone."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete
from sqlalchemy.orm import Session

from clearguard.risk.pending import write as write_pending
from clearguard.risk.tables import RiskAssessmentRow, RiskHistoryRow, RiskOutcomeRow

_LIVE_SOURCE = "officer"
_CHUNK = 500


def dispose_records(session: Session, references: Sequence[str]) -> int:
    """Deletes, in the caller's transaction, every risk record of the declarations `references`
    (MRNs); returns how many rows went."""
    write_pending(session)  # assessments of this transaction, if any, are rows like the others
    removed = 0
    unique = sorted(set(references))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        for statement in (
            delete(RiskAssessmentRow).where(RiskAssessmentRow.declaration_ref.in_(chunk)),
            delete(RiskOutcomeRow).where(RiskOutcomeRow.declaration_ref.in_(chunk)),
            delete(RiskHistoryRow).where(
                RiskHistoryRow.source == _LIVE_SOURCE, RiskHistoryRow.declaration_ref.in_(chunk)
            ),
        ):
            result = session.execute(statement.execution_options(synchronize_session=False))
            removed += int(getattr(result, "rowcount", 0) or 0)
    return removed
