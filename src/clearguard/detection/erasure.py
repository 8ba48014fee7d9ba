"""Erasure of a trader from the activity store: the crypto capability's ShredListener. A shredded
trader is found by its EORI's blind index nowhere, the activity store included: in the shred's own
transaction, activity rows lose the party reference (who did what, when, stays: it is staff activity)."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from clearguard.declarations.erasure import trader_index_of
from clearguard.detection.tables import ActivityRow


class ActivityErasure:
    """Satisfies clearguard.crypto.erasure.ShredListener (registered by clearguard.wiring)."""

    def party_shredded(self, session: Session, party_ref: str) -> None:
        index = trader_index_of(party_ref)
        if index is None:
            return  # a natural person's key: the activity store holds traders' references only
        session.execute(
            update(ActivityRow)
            .where(ActivityRow.party == index)
            .values(party=None)
            .execution_options(synchronize_session=False)
        )
