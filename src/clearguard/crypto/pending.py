"""Per-transaction key state: data keys made in a session's open transaction, and the parties already
resolved in it.

New keys are not inserted one by one: their rows are written in one batch just before the caller
commits (one multi-row INSERT per transaction, instead of a round trip per new party); their shares
are durable in the share store before the keys are even made (ShareStore.reserve). Until then the keys
live here, tagged with the transaction that made them, so that a rollback of that transaction, or of
the savepoint around it, forgets them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import SessionTransaction


@dataclass(slots=True)
class NewKey:
    aead: AESGCM
    owner: SessionTransaction  # the caller's innermost transaction when the key was made
    row: dict[str, Any]  # crypto_data_keys values, inserted at commit
    share: bytes | None  # None when the key was shredded before commit: its share is destroyed at commit


class TransactionKeys:
    def __init__(self) -> None:
        self.new: dict[int, NewKey] = {}
        # party index -> key id, for keys made or looked up in this transaction. Committed keys among
        # them are checked once more, locked, just before commit (CryptoService._before_commit).
        self.parties: dict[str, tuple[int, SessionTransaction]] = {}
        # Committed keys shredded in this transaction, by id: (uid, party index, owner). Their shares
        # are destroyed once it commits.
        self.shredded: dict[int, tuple[str, str | None, SessionTransaction]] = {}
        # party reference as the caller wrote it -> key id: key_for_party's first look-up, one dict
        # probe. Only a memo of `parties`: cleared whenever an entry of `parties` goes.
        self.refs: dict[str, int] = {}

    def get(self, key_id: int) -> AESGCM | None:
        entry = self.new.get(key_id)
        return None if entry is None else entry.aead

    def rows(self) -> list[dict[str, Any]]:
        return [key.row for key in self.new.values()]

    def looked_up(self) -> list[int]:
        """Ids of the committed keys this transaction resolved parties to."""
        return [key_id for key_id, _owner in self.parties.values() if key_id not in self.new]

    def committed(
        self,
    ) -> tuple[list[tuple[int, AESGCM | None, str]], list[tuple[str, int]], list[tuple[int, str, str | None]]]:
        """(new keys with their cipher, or None if shredded, and uid; (party index, key id) pairs
        resolved; (key id, uid, party index) of committed keys shredded); forgets everything."""
        items = [
            (key_id, key.aead if key.share is not None else None, key.row["uid"]) for key_id, key in self.new.items()
        ]
        parties = [(index, key_id) for index, (key_id, _owner) in self.parties.items()]
        shredded = [(key_id, uid, index) for key_id, (uid, index, _owner) in self.shredded.items()]
        self.new.clear()
        self.parties.clear()
        self.shredded.clear()
        self.refs.clear()
        return items, parties, shredded

    def drop_under(self, rolled_back: SessionTransaction) -> None:
        """Forget what was made or looked up inside `rolled_back` or any transaction nested in it."""
        self.refs.clear()
        for key_id, key in list(self.new.items()):
            if _within(key.owner, rolled_back):
                del self.new[key_id]
        for index, (_key_id, owner) in list(self.parties.items()):
            if _within(owner, rolled_back):
                del self.parties[index]
        # A shred rolled back with its transaction or savepoint destroys nothing.
        for key_id, (_uid, _index, owner) in list(self.shredded.items()):
            if _within(owner, rolled_back):
                del self.shredded[key_id]


def _within(node: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while node is not None:
        if node is ancestor:
            return True
        node = node.parent
    return False
