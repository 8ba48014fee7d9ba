"""What crypto-shredding asks of the capabilities above it: a port, implemented above, registered by
the composition root (clearguard.wiring).

Destroying a party's data key makes its sealed values unreadable; what other capabilities keep to find
the party again (blind indexes of its EORI or name, references to its key) must go in the same
transaction, or an erased person stays findable by name.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session


class ShredListener(Protocol):
    def party_shredded(self, session: Session, party_ref: str) -> None:
        """`party_ref`'s key is being shredded in `session`'s transaction: remove, in that same
        transaction (never commit), whatever would still find or name the party. Raise to refuse the
        shred: the transaction then rolls back and no key is destroyed."""
        ...
