"""The scored records of a live declaration, sealed under its declarant's data key.

A recorded assessment keeps the risk records it scored, so that an officer's control outcome can add
them to the training history later. Those records carry item prices (confidential): they are sealed
through the crypto capability (the port below names what is called) under the declarant's key, so
shredding the declarant erases them with the declaration. The associated data binds them to their
declaration (table, MRN, field); two assessments of one declaration are not told apart, which at worst
trains on its earlier content.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, Protocol

from sqlalchemy.orm import Session

from clearguard.crypto.fields import Erased, FieldRef

TABLE: Final = "risk_assessments"
FIELD: Final = "items"

# Declarant id of a live risk record (the blind index of its EORI) -> the party reference whose data
# key seals that declarant's values (the declarations capability's format; wiring supplies it).
OwnerOf = Callable[[str], str]


class ItemVault(Protocol):
    """What RiskService calls on the crypto service (CryptoService satisfies it)."""

    def keys_for_parties(self, session: Session, party_refs: Sequence[str]) -> list[int]:
        """The data key of each party, in order (created on first use), looked up together."""
        ...

    def seal_many(self, session: Session, items: Sequence[tuple[int, FieldRef, str]]) -> list[bytes]: ...

    def open_many(self, session: Session, items: Sequence[tuple[int, FieldRef, bytes]]) -> list[str | Erased]: ...


def where(declaration_ref: str) -> FieldRef:
    return FieldRef(TABLE, declaration_ref, FIELD, 1)


def open_items(vault: ItemVault, session: Session, declaration_ref: str, key_id: int, blob: bytes) -> str | None:
    """The sealed records' JSON, or None once the declarant's key is shredded."""
    [opened] = vault.open_many(session, [(key_id, where(declaration_ref), blob)])
    return None if isinstance(opened, Erased) else opened
