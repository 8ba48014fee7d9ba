"""Legal holds: placed, listed and released in the caller's transaction; and what they cover.

A hold names a declaration (its MRN) or a party (a party reference: `eori:<blind index>` for a trader,
`person:<blind index>` for a natural person), with a reason, an owner, an optional case id (an appeal,
court case or post-clearance audit) and an optional review date. A party hold covers every declaration
in which the party appears, in any role, with all the data in it, co-parties' included.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from clearguard.errors import Conflict, InputError, NotFound
from clearguard.retention.tables import HoldRow

SCOPES: Final = ("party", "mrn")
_TEXT_LIMITS: Final = {"reason": 2000, "owner": 80, "case": 80}


class HeldError(Conflict):
    """An erasure path met a legal hold: nothing was erased."""

    slug = "legal-hold"
    title = "Suspended by a legal hold"


@dataclass(frozen=True, slots=True)
class Hold:
    id: int
    scope: str
    target: str
    case_id: str | None
    reason: str
    owner: str
    review: date | None
    created_at: datetime
    created_by: str
    released_at: datetime | None
    released_by: str | None
    release_reason: str | None

    @property
    def active(self) -> bool:
        return self.released_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scope": self.scope,
            "target": self.target,
            "case": self.case_id,
            "reason": self.reason,
            "owner": self.owner,
            "review": self.review.isoformat() if self.review else None,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "active": self.active,
            "released_at": self.released_at.isoformat() if self.released_at else None,
            "released_by": self.released_by,
            "release_reason": self.release_reason,
        }


def _hold(row: HoldRow) -> Hold:
    return Hold(
        row.id, row.scope, row.target, row.case_id, row.reason, row.owner, row.review, row.created_at,
        row.created_by, row.released_at, row.released_by, row.release_reason,
    )  # fmt: skip


def text(value: str | None, name: str, *, required: bool = True) -> str | None:
    """A free-text field, stripped; InputError naming it when it is empty (and required) or too long."""
    limit = _TEXT_LIMITS[name]
    if value is None or not value.strip():
        if required:
            raise InputError(f"{name}: required, a non-empty text", field=name)
        return None
    value = value.strip()
    if len(value) > limit:
        raise InputError(f"{name}: at most {limit} characters", field=name)
    if any(ord(c) < 32 and c not in "\t" for c in value):
        raise InputError(f"{name}: control characters are not allowed", field=name)
    return value


def add(
    session: Session,
    *,
    scope: str,
    target: str,
    case_id: str | None,
    reason: str,
    owner: str,
    review: date | None,
    actor: str,
    now: datetime,
) -> Hold:
    if scope not in SCOPES:
        raise InputError(f"scope: one of {', '.join(SCOPES)}", field="scope")
    if review is not None and review < now.date():
        raise InputError(f"review: {review.isoformat()} is in the past", field="review")
    row = HoldRow(
        scope=scope,
        target=target,
        case_id=text(case_id, "case", required=False),
        reason=text(reason, "reason"),
        owner=text(owner, "owner"),
        review=review,
        created_at=now,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    return _hold(row)


def release(session: Session, hold_id: int, *, reason: str, actor: str, now: datetime) -> Hold:
    why = text(reason, "reason")
    row = session.execute(select(HoldRow).where(HoldRow.id == hold_id).with_for_update()).scalar_one_or_none()
    if row is None:
        raise NotFound(f"id: no legal hold {hold_id}", field="id")
    if row.released_at is not None:
        raise Conflict(f"id: legal hold {hold_id} was already released on {row.released_at.date()}", field="id")
    row.released_at, row.released_by, row.release_reason = now, actor, why
    session.flush()
    return _hold(row)


def listed(session: Session, *, active_only: bool = True) -> list[Hold]:
    query = select(HoldRow).order_by(HoldRow.id)
    if active_only:
        query = query.where(HoldRow.released_at.is_(None))
    return [_hold(row) for row in session.execute(query).scalars()]


def covering(session: Session, *, mrns: Collection[str], parties: Collection[str]) -> list[Hold]:
    """Active holds on any of the MRNs or parties."""
    conditions = []
    if mrns:
        conditions.append((HoldRow.scope == "mrn") & HoldRow.target.in_(sorted(mrns)))
    if parties:
        conditions.append((HoldRow.scope == "party") & HoldRow.target.in_(sorted(parties)))
    if not conditions:
        return []
    query = select(HoldRow).where(HoldRow.released_at.is_(None), or_(*conditions)).order_by(HoldRow.id)
    return [_hold(row) for row in session.execute(query).scalars()]


class DeclarationsOfParties(Protocol):
    def declarations_of_parties(self, session: Session, party_refs: Collection[str]) -> set[int]: ...

    def ids_of(self, session: Session, mrns: Collection[str]) -> dict[str, int]: ...


def held_declarations(
    session: Session, declarations: DeclarationsOfParties, extra_parties: Collection[str] = ()
) -> set[int]:
    """Ids of every declaration an active hold covers (and those of `extra_parties`: subjects with
    an open data-subject request)."""
    active = listed(session)
    by_mrn = {h.target for h in active if h.scope == "mrn"}
    parties = {h.target for h in active if h.scope == "party"} | set(extra_parties)
    held = set(declarations.ids_of(session, by_mrn).values())
    held |= declarations.declarations_of_parties(session, parties)
    return held
