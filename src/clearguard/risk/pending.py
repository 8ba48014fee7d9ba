"""Assessments recorded in a session's open transaction, written together.

Lodging assesses one declaration at a time; a single-row INSERT per assessment cost more than the
assessment itself. The rows wait here, tagged with the transaction (or savepoint) that made them, and
go out in one multi-row INSERT just before the caller commits, or earlier, the moment the risk
service reads its assessments in the same transaction (so every read sees them). A rollback of the
transaction forgets them; a rollback of a savepoint forgets those made inside it, and puts back those
made outside it but written while it was open (its rollback removed them from the database).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.orm import Session, SessionTransaction

from clearguard.db import bulk_insert
from clearguard.risk.tables import RiskAssessmentRow

ASSESSMENTS: Table = RiskAssessmentRow.__table__  # type: ignore[assignment]
_KEY = "clearguard.risk.pending_assessments"


@dataclass(slots=True)
class _Pending:
    rows: list[tuple[SessionTransaction, dict[str, Any]]] = field(default_factory=list)
    # Rows written while a savepoint was open: (owner, row, the savepoint), until the transaction ends.
    written: list[tuple[SessionTransaction, dict[str, Any], SessionTransaction]] = field(default_factory=list)


def add(session: Session, rows: list[dict[str, Any]]) -> None:
    """Records `rows` (risk_assessments values) in the caller's transaction."""
    if not rows:
        return
    owner = session.get_nested_transaction() or session.get_transaction()
    if owner is None:  # no transaction begun yet: the insert begins one, as a flush would
        bulk_insert(session, ASSESSMENTS, rows)
        return
    state: _Pending | None = session.info.get(_KEY)
    if state is None:
        state = session.info[_KEY] = _Pending()
        event.listen(session, "before_commit", _before_commit)
        event.listen(session, "after_soft_rollback", _rolled_back)
        event.listen(session, "after_transaction_end", _ended)
    state.rows.extend((owner, row) for row in rows)


def write(session: Session) -> None:
    """Inserts the waiting rows now: before any read of the assessments, and before the commit."""
    state: _Pending | None = session.info.get(_KEY)
    if state is None or not state.rows:
        return
    rows, state.rows = state.rows, []
    savepoint = session.get_nested_transaction()
    if savepoint is not None:
        state.written.extend((owner, row, savepoint) for owner, row in rows)
    bulk_insert(session, ASSESSMENTS, [row for _owner, row in rows])


def _before_commit(session: Session) -> None:
    # Fired for savepoints too: the rows go out with the real commit (or with a read before it).
    if not session.in_nested_transaction():
        write(session)


def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    state: _Pending | None = session.info.get(_KEY)
    if state is None:
        return
    if previous_transaction.parent is None:
        state.rows.clear()
        state.written.clear()
        return
    again = [
        (owner, row)
        for owner, row, savepoint in state.written
        if _within(savepoint, previous_transaction) and not _within(owner, previous_transaction)
    ]
    state.written = [w for w in state.written if not _within(w[2], previous_transaction)]
    state.rows = again + [(owner, row) for owner, row in state.rows if not _within(owner, previous_transaction)]


def _ended(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction is over (committed, rolled back or closed): nothing may carry over.
    if transaction.parent is None:
        state: _Pending | None = session.info.get(_KEY)
        if state is not None:
            state.rows.clear()
            state.written.clear()


def _within(node: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while node is not None:
        if node is ancestor:
            return True
        node = node.parent
    return False
