"""The declarations' answer to `ledger verify`: recompute each committed record from its rows.

A version's entry commits to its canonical document (plus, for the first version, the automatic
transitions of lodging); an officer's transition has an entry of its own. Recomputing opens the
protected values and the sealed salt; a record whose party key was shredded is reported as erased,
which is what crypto-shredding means, not tampering.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearguard.declarations import documents
from clearguard.declarations.categorised import seal_plan
from clearguard.declarations.ports import Erased, FieldRef, FieldVault
from clearguard.declarations.service import (
    VERSION_KIND,
    VERSION_TABLE,
    transition_canonical,
    transition_salt_ref,
    version_canonical,
)
from clearguard.declarations.tables import DeclarationEventRow, DeclarationRow, DeclarationVersionRow
from clearguard.errors import ClearGuardError

Commit = Callable[[str, str, bytes, bytes], bytes]
# Never equal to a SHA-256 commitment: what a row that fails to decrypt recomputes to.
UNREADABLE = b"unreadable"
EVENT_KEYS = ("version", "from_status", "to_status", "actor", "role", "reason", "at")


def _event(row: DeclarationEventRow) -> dict[str, Any]:
    return {key: getattr(row, key) for key in EVENT_KEYS}


def _labels_match(declaration_type: str, protected: dict[str, Any]) -> bool:
    """The category a sealed group is stored under decides which roles may open it, and it lies
    outside the ciphertext: each group must carry the category the seal plan gives its name (a group
    relabelled, say, personal -> trade, or one the plan does not know, is tampering). Values sealed
    one by one ('/pointer' names, before groups existed) have no plan entry and are left as stored."""
    plan = {group.name: group.category.value for group in seal_plan(declaration_type).groups}
    return all(name.startswith("/") or plan.get(name) == entry[0] for name, entry in protected.items())


class DeclarationCommitments:
    kind = "declaration."

    def __init__(self, vault: FieldVault, commit: Commit, *, erased: object) -> None:
        self._vault = vault
        self._commit = commit
        self._erased = erased  # the ledger's own "erased" marker

    def recompute(self, session: Session, entries: Sequence[tuple[int, str]]) -> dict[int, Any]:
        indices = [index for index, _record in entries]
        found: dict[int, Any] = {}
        versions = session.execute(
            select(DeclarationVersionRow, DeclarationRow.mrn, DeclarationRow.type)
            .join(DeclarationRow, DeclarationRow.id == DeclarationVersionRow.declaration_id)
            .where(DeclarationVersionRow.ledger_index.in_(indices))
        ).all()
        for version, mrn, declaration_type in versions:
            assert version.ledger_index is not None
            try:
                found[version.ledger_index] = self._version(session, version, mrn, declaration_type)
            except ClearGuardError:
                # A ciphertext that no longer authenticates (edited, or moved from another record)
                # is tampering with this entry's row: report it there, never abort the whole check.
                found[version.ledger_index] = UNREADABLE
        events = session.execute(
            select(DeclarationEventRow, DeclarationRow.mrn)
            .join(DeclarationRow, DeclarationRow.id == DeclarationEventRow.declaration_id)
            .where(DeclarationEventRow.ledger_index.in_(indices), DeclarationEventRow.salt.is_not(None))
        ).all()
        for event, mrn in events:
            assert event.ledger_index is not None and event.salt is not None and event.salt_key_id is not None
            try:
                salt = self._vault.open(
                    session, event.salt_key_id, transition_salt_ref(mrn, event.version, event.ledger_index), event.salt
                )
            except ClearGuardError:
                found[event.ledger_index] = UNREADABLE
                continue
            if isinstance(salt, Erased):
                found[event.ledger_index] = self._erased
                continue
            canonical = transition_canonical(mrn, _event(event))
            found[event.ledger_index] = self._commit("declaration.transition", mrn, canonical, bytes.fromhex(salt))
        return found

    def _version(self, session: Session, row: DeclarationVersionRow, mrn: str, declaration_type: str) -> Any:
        if not _labels_match(declaration_type, row.protected):
            return UNREADABLE
        salt = self._vault.open(session, row.salt_key_id, FieldRef(VERSION_TABLE, mrn, "salt", row.version), row.salt)
        if isinstance(salt, Erased):
            return self._erased
        erased = False

        def open_values(entries: list[tuple[str, list[Any]]]) -> list[Any]:
            nonlocal erased
            plains = self._vault.open_many(
                session,
                [
                    (int(entry[1]), FieldRef(VERSION_TABLE, mrn, name, row.version), base64.b64decode(entry[2]))
                    for name, entry in entries
                ],
            )
            erased = any(isinstance(plain, Erased) for plain in plains)
            return [{} if isinstance(plain, Erased) else json.loads(plain) for plain in plains]

        doc = documents.join(declaration_type, row.clear_doc, row.protected, lambda _p, _c: True, open_values)
        if erased:
            return self._erased
        lodge_events: list[dict[str, Any]] = []
        if row.version == 1:
            lodge_events = [
                _event(e)
                for e in session.execute(
                    select(DeclarationEventRow)
                    .where(
                        DeclarationEventRow.declaration_id == row.declaration_id,
                        DeclarationEventRow.ledger_index == row.ledger_index,
                    )
                    .order_by(DeclarationEventRow.id)
                ).scalars()
            ]
        canonical = version_canonical(documents.canonical_json(doc), lodge_events)
        return self._commit(VERSION_KIND, f"{mrn}/{row.version}", canonical, bytes.fromhex(salt))

    def ledger_indices(self, session: Session) -> list[tuple[int | None, str]]:
        """Every version and every transition. A transition of lodging has no entry of its own: it
        must claim its declaration's first version's entry (which commits to it), or it is a row
        that no entry covers."""
        indices: list[tuple[int | None, str]] = []
        first_entry: dict[int, int | None] = {}
        for declaration_id, index, mrn, version in session.execute(
            select(
                DeclarationVersionRow.declaration_id,
                DeclarationVersionRow.ledger_index,
                DeclarationRow.mrn,
                DeclarationVersionRow.version,
            ).join(DeclarationRow, DeclarationRow.id == DeclarationVersionRow.declaration_id)
        ):
            indices.append((None if index is None else int(index), f"{mrn}/{version}"))
            if version == 1:
                first_entry[declaration_id] = index
        for declaration_id, index, mrn, own in session.execute(
            select(
                DeclarationEventRow.declaration_id,
                DeclarationEventRow.ledger_index,
                DeclarationRow.mrn,
                DeclarationEventRow.salt.is_not(None),
            ).join(DeclarationRow, DeclarationRow.id == DeclarationEventRow.declaration_id)
        ):
            if own:
                indices.append((None if index is None else int(index), mrn))
            elif index is None or first_entry.get(declaration_id) != index:
                indices.append((None, f"{mrn} (a transition no entry covers)"))
        return indices
