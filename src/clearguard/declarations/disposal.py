"""Disposal of declarations under a retention policy, in the caller's transaction (a retention run).

A disposed declaration keeps a tombstone: its row (MRN, type, office, status, dates, and the run that
disposed of it) and, for each version and transition, a row holding only its ledger index, so that
`ledger verify` can name each entry as disposed rather than deleted. Everything else goes: the clear
and sealed parts of every version, the findings, the sealed salts, the transitions' reasons, the
party rows with their blind indexes, and the LRN and blind indexes on the declaration row. The data
keys that sealed them are shredded by the run once no declaration still in retention uses them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import String, cast, delete, literal, or_, select, update
from sqlalchemy.orm import Session

from clearguard.declarations.tables import (
    DeclarationEventRow,
    DeclarationPartyRow,
    DeclarationRow,
    DeclarationVersionRow,
)

DISPOSED_PREFIX = "disposed:"
_TRADER = "eori:"
_CHUNK = 500
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Candidate:
    """What a retention schedule needs of a declaration still held: nothing protected."""

    id: int
    mrn: str
    office: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Disposal:
    declarations: int
    versions: int
    transitions: int
    party_refs: frozenset[str]  # the keys that sealed the disposed data, to shred once unused
    mrns: tuple[str, ...]  # for the capabilities whose records follow the declaration (risk)


def _chunks(values: Sequence[T]) -> list[list[T]]:
    items = list(values)
    return [items[start : start + _CHUNK] for start in range(0, len(items), _CHUNK)]


def candidates(session: Session, *, after_id: int = 0, limit: int = 5000) -> list[Candidate]:
    """Declarations not disposed of, by id, `limit` at a time from `after_id` (keyset pages)."""
    rows = session.execute(
        select(DeclarationRow.id, DeclarationRow.mrn, DeclarationRow.office, DeclarationRow.created_at)
        .where(DeclarationRow.disposed_at.is_(None), DeclarationRow.id > after_id)
        .order_by(DeclarationRow.id)
        .limit(limit)
    ).all()
    return [Candidate(int(i), m, o, c) for i, m, o, c in rows]


def party_keys(session: Session, ids: Sequence[int]) -> dict[int, set[str]]:
    """For each declaration, every reference a party hold may name it by: each party's key
    reference (`eori:...` of the declarant, `person:...` of a natural person) and `eori:<index>` of
    every party with an EORI, in any role and any version."""
    found: dict[int, set[str]] = {i: set() for i in ids}
    for chunk in _chunks(ids):
        for declaration_id, eori_index, party_ref in session.execute(
            select(
                DeclarationPartyRow.declaration_id, DeclarationPartyRow.eori_index, DeclarationPartyRow.party_ref
            ).where(DeclarationPartyRow.declaration_id.in_(chunk))
        ):
            keys = found[int(declaration_id)]
            keys.add(party_ref)
            if eori_index:
                keys.add(_TRADER + eori_index)
    return found


def declarations_of(session: Session, party_refs: Collection[str]) -> set[int]:
    """Ids of the declarations (disposed or not) in which any of the parties appears, in any role."""
    refs = sorted(party_refs)
    if not refs:
        return set()
    eori_indexes = [ref.removeprefix(_TRADER) for ref in refs if ref.startswith(_TRADER)]
    found: set[int] = set()
    for chunk in _chunks(refs):
        found.update(
            int(i)
            for i in session.scalars(
                select(DeclarationPartyRow.declaration_id).where(DeclarationPartyRow.party_ref.in_(chunk))
            )
        )
    for chunk in _chunks(eori_indexes):
        found.update(
            int(i)
            for i in session.scalars(
                select(DeclarationPartyRow.declaration_id).where(DeclarationPartyRow.eori_index.in_(chunk))
            )
        )
        found.update(
            int(i) for i in session.scalars(select(DeclarationRow.id).where(DeclarationRow.declarant_index.in_(chunk)))
        )
    return found


def ids_of(session: Session, mrns: Collection[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(mrns)):
        found.update(
            {
                m: int(i)
                for m, i in session.execute(
                    select(DeclarationRow.mrn, DeclarationRow.id).where(DeclarationRow.mrn.in_(chunk))
                )
            }
        )
    return found


def dispose(session: Session, ids: Sequence[int], *, run: int, at: datetime) -> Disposal:
    """Disposes of the declarations `ids` (not yet disposed) as described above; returns what went
    and the party references whose keys sealed it."""
    refs: set[str] = set()
    mrns: list[str] = []
    versions = transitions = count = 0
    for chunk in _chunks(ids):
        mrns.extend(
            session.scalars(
                select(DeclarationRow.mrn).where(DeclarationRow.id.in_(chunk), DeclarationRow.disposed_at.is_(None))
            )
        )
        refs.update(
            session.scalars(
                select(DeclarationPartyRow.party_ref).where(DeclarationPartyRow.declaration_id.in_(chunk)).distinct()
            )
        )
        count += _rowcount(
            session.execute(
                update(DeclarationRow)
                .where(DeclarationRow.id.in_(chunk), DeclarationRow.disposed_at.is_(None))
                .values(
                    disposed_at=at,
                    disposal_run=run,
                    lrn="",
                    content_index="",
                    declarant_index=literal(DISPOSED_PREFIX) + cast(DeclarationRow.id, String),
                )
                .execution_options(synchronize_session=False)
            )
        )
        versions += _rowcount(
            session.execute(
                update(DeclarationVersionRow)
                .where(DeclarationVersionRow.declaration_id.in_(chunk))
                .values(clear_doc={}, protected={}, findings=[], salt=b"", salt_key_id=0, reason=None)
                .execution_options(synchronize_session=False)
            )
        )
        # A transition with an entry of its own keeps a (now empty) salt, so that it is still told
        # apart from those its version's entry covers.
        for own, salt in ((True, b""), (False, None)):
            transitions += _rowcount(
                session.execute(
                    update(DeclarationEventRow)
                    .where(
                        DeclarationEventRow.declaration_id.in_(chunk),
                        DeclarationEventRow.salt.is_not(None) if own else DeclarationEventRow.salt.is_(None),
                    )
                    .values(reason=None, salt=salt, salt_key_id=None)
                    .execution_options(synchronize_session=False)
                )
            )
        session.execute(
            delete(DeclarationPartyRow)
            .where(DeclarationPartyRow.declaration_id.in_(chunk))
            .execution_options(synchronize_session=False)
        )
    return Disposal(
        count, versions, transitions, frozenset(r for r in refs if not r.startswith("erased:")), tuple(mrns)
    )


def still_used(session: Session, party_refs: Collection[str]) -> set[str]:
    """Of `party_refs`, those whose key still seals a declaration that is not disposed of (every
    party row left belongs to one: disposal deletes them)."""
    used: set[str] = set()
    for chunk in _chunks(sorted(party_refs)):
        used.update(
            session.scalars(
                select(DeclarationPartyRow.party_ref).where(DeclarationPartyRow.party_ref.in_(chunk)).distinct()
            )
        )
    return used


def disposals(session: Session) -> dict[str, int | None]:
    """MRN -> the run that disposed of it, for every disposed declaration (verify's cross-check)."""
    return {
        mrn: (None if run is None else int(run))
        for mrn, run in session.execute(
            select(DeclarationRow.mrn, DeclarationRow.disposal_run).where(
                or_(DeclarationRow.disposed_at.is_not(None), DeclarationRow.disposal_run.is_not(None))
            )
        )
    }


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
