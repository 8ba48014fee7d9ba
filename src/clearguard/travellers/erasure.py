"""Erasure of a traveller from the look-up index: the crypto capability's ShredListener.

Shredding a traveller's key (by a disposal, or `keys shred` of `traveller:<index>`) makes the sealed
records read as erased; this clears, in the shred's own transaction, the blind index that would still
find the records of that traveller.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import update
from sqlalchemy.orm import Session

from clearguard.travellers.tables import TravellerRecordRow

PARTY_PREFIX: Final = "traveller:"


def traveller_ref(traveller_index: str) -> str:
    """The party reference whose data key seals a traveller's records."""
    return PARTY_PREFIX + traveller_index


class TravellerErasure:
    """Satisfies clearguard.crypto.erasure.ShredListener (registered by clearguard.wiring)."""

    def party_shredded(self, session: Session, party_ref: str) -> None:
        if not party_ref.startswith(PARTY_PREFIX):
            return
        session.execute(
            update(TravellerRecordRow)
            .where(TravellerRecordRow.traveller_index == party_ref.removeprefix(PARTY_PREFIX))
            .values(traveller_index=None)
            .execution_options(synchronize_session=False)
        )
