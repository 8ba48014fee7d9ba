"""Erasure of a party from the declarations' indexes: the crypto capability's ShredListener.

Shredding a party's data key makes its sealed values read as erased; this removes, in the shred's own
transaction, what would still find the party or tie declarations to it:

- every party row sealed under the shredded key (the person's own rows, or for a trader every row of
  its declarations, whose other parties' values were sealed under its key too) loses its EORI and
  name indexes, and its key reference becomes an opaque `erased:<row id>`;
- for a trader, every row naming its EORI in other declarants' declarations loses its EORI and name
  indexes, and its own declarations' declarant index becomes an opaque `erased:<declaration id>`.

A later amendment of such a declaration gets a fresh key under the opaque reference; nothing finds the
erased party again, by EORI, by name or by its reference.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import String, cast, literal, update
from sqlalchemy.orm import Session

from clearguard.declarations import parties
from clearguard.declarations.ports import FieldVault
from clearguard.declarations.tables import DeclarationPartyRow, DeclarationRow

ERASED_PREFIX: Final = "erased:"
_TRADER: Final = "eori:"


def trader_ref_from_index(eori_index: str) -> str:
    """The party reference of a trader from the blind index of its EORI (as risk records carry it)."""
    return _TRADER + eori_index


def trader_index_of(party_ref: str) -> str | None:
    """The blind index of a trader's EORI from its party reference; None for a natural person."""
    return party_ref.removeprefix(_TRADER) if party_ref.startswith(_TRADER) else None


class PartyErasure:
    """Satisfies clearguard.crypto.erasure.ShredListener (registered by clearguard.wiring)."""

    def __init__(self, vault: FieldVault) -> None:
        self._vault = vault

    def trader_reference(self, party: str) -> str:
        """The reference of a trader as an operator names it: an EORI (`eori:` optional) or a stored
        reference."""
        return parties.resolve(self._vault, party)

    def person_reference(self, name: str, postcode: str | None, country: str) -> str:
        return parties.person_ref(self._vault, name, postcode, country)

    def party_shredded(self, session: Session, party_ref: str) -> None:
        opaque_row = literal(ERASED_PREFIX) + cast(DeclarationPartyRow.id, String)
        session.execute(
            update(DeclarationPartyRow)
            .where(DeclarationPartyRow.party_ref == party_ref)
            .values(eori_index=None, name_index=None, party_ref=opaque_row)
            .execution_options(synchronize_session=False)
        )
        # A trader's reference is "eori:" + the blind index of its EORI (declarations.parties).
        eori_index = trader_index_of(party_ref)
        if eori_index is None:
            return
        session.execute(
            update(DeclarationPartyRow)
            .where(DeclarationPartyRow.eori_index == eori_index)
            .values(eori_index=None, name_index=None)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(DeclarationRow)
            .where(DeclarationRow.declarant_index == eori_index)
            .values(declarant_index=literal(ERASED_PREFIX) + cast(DeclarationRow.id, String))
            .execution_options(synchronize_session=False)
        )
