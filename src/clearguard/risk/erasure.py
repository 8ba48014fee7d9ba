"""Erasure of a trader from the risk data: a crypto ShredListener (registered by clearguard.wiring).

Live assessments seal their scored records under the declarant's key, so a shred erases them. What a
shred must still remove here, in its own transaction:

- history lines that control outcomes added from the trader's declarations (they hold its item prices
  in clear, as training data);
- the trader's blind index where it names the importer or seller of another declarant's lines;
- records of assessments made before they were sealed (kept in clear in `items`) for its declarations.

Imported pseudonymous history (KCS) never holds a live party and is left alone.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from clearguard.risk.pending import write as write_pending
from clearguard.risk.tables import RiskAssessmentRow, RiskHistoryRow

# Party reference -> the blind index of the trader's EORI, None for a natural person (whose data never
# reaches the risk records).
TraderIndexOf = Callable[[str], str | None]
_LIVE_SOURCE = "officer"


class RiskErasure:
    def __init__(self, trader_index_of: TraderIndexOf) -> None:
        self._index_of = trader_index_of

    def party_shredded(self, session: Session, party_ref: str) -> None:
        index = self._index_of(party_ref)
        if index is None:
            return
        session.execute(
            delete(RiskHistoryRow)
            .where(RiskHistoryRow.source == _LIVE_SOURCE, RiskHistoryRow.declarant_id == index)
            .execution_options(synchronize_session=False)
        )
        for column in (RiskHistoryRow.importer_id, RiskHistoryRow.seller_id):
            session.execute(
                update(RiskHistoryRow)
                .where(RiskHistoryRow.source == _LIVE_SOURCE, column == index)
                .values({column: ""})
                .execution_options(synchronize_session=False)
            )
        write_pending(session)  # assessments of this transaction, if any, are rows like the others
        legacy = session.execute(
            select(RiskAssessmentRow.id, RiskAssessmentRow.items).where(RiskAssessmentRow.sealed_items.is_(None))
        ).all()
        erased = [row_id for row_id, items in legacy if any(item.get("declarant_id") == index for item in items or [])]
        for start in range(0, len(erased), 500):
            session.execute(
                update(RiskAssessmentRow)
                .where(RiskAssessmentRow.id.in_(erased[start : start + 500]))
                .values(items=[])
                .execution_options(synchronize_session=False)
            )
