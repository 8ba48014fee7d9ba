"""Drafts: declaration documents a trader or broker is preparing, saved but not lodged.

A draft may be incomplete or break rules, and it holds the same confidential and personal values
as a declaration, so the whole document is sealed (AES-256-GCM), never stored in clear:
- under the declarant's data key when it names a declarant the owner may lodge for (the caller
  decides, as lodging would): shredding that party's key then erases its drafts too;
- otherwise under the service's sealing key (the one that seals TOTP seeds), with the draft id and
  owner bound in as associated data, so a sealed document copied onto another draft does not open.
Only the owner ever sees a draft; anyone else gets NotFound, as for a draft that does not exist.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from clearguard.audit import NewAuditEvent
from clearguard.crypto.fields import Erased, FieldRef
from clearguard.db import utcnow
from clearguard.declarations.erasure import trader_index_of
from clearguard.declarations.parties import normalise_eori, trader_ref
from clearguard.declarations.ports import AuditRecorder, FieldVault
from clearguard.declarations.results import Actor, LodgeResult
from clearguard.declarations.tables import DeclarationDraftRow
from clearguard.errors import Conflict, NotFound

RETENTION_DAYS = 30  # a draft untouched this long is disposed of by retention runs
PURPOSE = "declaration-draft"
RECORD_TYPE = "declaration_draft"
class DraftLimitReached(Conflict):
    slug = "draft-limit"
    title = "Too many drafts"


# Drafts are up to a request's size each and wait 30 days for retention: a cap per owner keeps one
# account from filling the database with them.
MAX_DRAFTS_PER_OWNER = 200

_LRN = re.compile(r"^[A-Za-z0-9._/-]{1,22}$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class ServiceSealer(Protocol):
    """crypto.secret_box.SecretBox: sealing under a service key, purpose and owner bound in."""

    def seal(self, purpose: str, owner: str, secret: str) -> str: ...

    def open(self, purpose: str, owner: str, stored: str) -> str: ...


@dataclass(frozen=True, slots=True)
class DraftSummary:
    id: str
    title: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Draft:
    summary: DraftSummary
    document: dict[str, Any]


def _summary(row: DeclarationDraftRow) -> DraftSummary:
    return DraftSummary(row.id, row.title, row.created_at, row.updated_at)


def _ref(draft_id: str, owner: str) -> FieldRef:
    # The owner is part of the record id, so a sealed document moved to another owner's row fails.
    return FieldRef(RECORD_TYPE, f"{draft_id}|{owner}", "document", 0)


def _box_owner(draft_id: str, owner: str) -> str:
    return f"{len(draft_id)}:{draft_id}|{owner}"


class DraftService:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        vault: FieldVault,
        box: ServiceSealer,
        audit: AuditRecorder | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sf = session_factory
        self._vault = vault
        self._box = box
        self._audit = audit
        self._clock = clock

    # ------------------------------------------------------------------ writes

    def save(
        self, actor: Actor, doc: dict[str, Any], *, draft_id: str | None = None, declarant: str | None = None
    ) -> DraftSummary:
        """Creates (no `draft_id`) or replaces one of `actor`'s drafts. `declarant`: the document's
        declarant EORI when it is valid and the actor may lodge for it (the caller checked), else None."""
        now = self._clock()
        plain = orjson.dumps(doc).decode()
        with self._sf.begin() as session:
            lrn = doc.get("lrn")
            title = lrn.strip() if isinstance(lrn, str) and _LRN.fullmatch(lrn.strip()) else None
            if draft_id is None:
                row = DeclarationDraftRow(id=secrets.token_urlsafe(18), owner=actor.name, created_at=now)
                count = session.scalar(
                    select(func.count()).select_from(DeclarationDraftRow).where(DeclarationDraftRow.owner == actor.name)
                )
                if int(count or 0) >= MAX_DRAFTS_PER_OWNER:
                    raise DraftLimitReached(
                        f"drafts: at most {MAX_DRAFTS_PER_OWNER} per account; lodge or delete some first"
                    )
                row.title = title or f"draft {int(count or 0) + 1}"
            else:
                row = self._own(session, actor.name, draft_id)
                row.title = title or row.title  # without an LRN, it keeps its number
            row.updated_at = now
            if declarant is not None:
                party = trader_ref(self._vault, declarant)
                key_id = self._vault.key_for_party(session, party)
                row.sealed = self._vault.seal(session, key_id, _ref(row.id, actor.name), plain)
                row.key_id = key_id
                row.declarant_index = self._vault.blind_index("eori", normalise_eori(declarant))
            else:
                row.sealed = self._box.seal(PURPOSE, _box_owner(row.id, actor.name), plain).encode()
                row.key_id = None
                row.declarant_index = None
            session.add(row)
            self._record(session, actor, "draft.save", row.id, row.declarant_index)
            session.flush()
            return _summary(row)

    def delete(self, actor: Actor, draft_id: str) -> None:
        with self._sf.begin() as session:
            row = self._own(session, actor.name, draft_id)
            self._record(session, actor, "draft.delete", row.id, row.declarant_index)
            session.delete(row)

    def lodge(
        self,
        actor: Actor,
        draft_id: str,
        *,
        check: Callable[[dict[str, Any]], None],
        lodge: Callable[[dict[str, Any], Actor], LodgeResult],
    ) -> LodgeResult:
        """Lodges the draft through the normal lodging path (`check`: the caller's lodging
        authorisation; `lodge`: DeclarationService.lodge). Findings (ValidationFailed) or a refusal
        leave the draft as it is; once lodged, the draft is deleted. Lodging is idempotent on LRN
        and content, so a draft left behind by a crash between the two lodges to the same MRN."""
        draft = self.get(actor.name, draft_id)
        check(draft.document)
        result = lodge(draft.document, actor)
        with self._sf.begin() as session:
            row = session.get(DeclarationDraftRow, draft_id)
            if row is not None and row.owner == actor.name:
                self._record(session, actor, "draft.lodged", row.id, row.declarant_index)
                session.delete(row)
        return result

    # ------------------------------------------------------------------ reads

    def list(self, owner: str) -> list[DraftSummary]:
        with self._sf() as session:
            rows = session.scalars(
                select(DeclarationDraftRow)
                .where(DeclarationDraftRow.owner == owner)
                .order_by(DeclarationDraftRow.updated_at.desc(), DeclarationDraftRow.id)
            )
            return [_summary(r) for r in rows]

    def get(self, owner: str, draft_id: str) -> Draft:
        with self._sf() as session:
            row = self._own(session, owner, draft_id)
            if row.key_id is not None:
                opened = self._vault.open(session, row.key_id, _ref(row.id, owner), row.sealed)
                if isinstance(opened, Erased):
                    raise NotFound("draft not found", field="draft_id")
                plain = opened
            else:
                plain = self._box.open(PURPOSE, _box_owner(row.id, owner), row.sealed.decode())
            document = orjson.loads(plain)
            return Draft(_summary(row), document if isinstance(document, dict) else {})

    # ------------------------------------------------------------------ helpers

    def _own(self, session: Session, owner: str, draft_id: str) -> DeclarationDraftRow:
        row = session.get(DeclarationDraftRow, draft_id) if _ID.fullmatch(draft_id) else None
        if row is None or row.owner != owner:
            # Someone else's draft is answered as a missing one: its existence is not disclosed.
            raise NotFound("draft not found", field="draft_id")
        return row

    def _record(self, session: Session, actor: Actor, action: str, draft_id: str, party: str | None) -> None:
        if self._audit is None:
            return
        event = NewAuditEvent(
            actor=actor.name,
            role=actor.role,
            action=action,
            record_type=RECORD_TYPE,
            record_id=draft_id,
            party=party,
            source=actor.source,
        )
        self._audit.record_many(session, [event])


class DraftRecords:
    """The retention run's port (`OtherRecords`): drafts untouched for RETENTION_DAYS go."""

    count_key = "declaration_drafts"

    def _due(self, as_of: datetime) -> Any:
        return DeclarationDraftRow.updated_at < as_of - timedelta(days=RETENTION_DAYS)

    def count_due(self, session: Session, *, as_of: datetime, audit_before: datetime | None) -> int:
        return int(session.scalar(select(func.count()).select_from(DeclarationDraftRow).where(self._due(as_of))) or 0)

    def dispose_due(self, session: Session, *, as_of: datetime, audit_before: datetime | None) -> int:
        result = session.execute(delete(DeclarationDraftRow).where(self._due(as_of)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class DraftErasure:
    """Satisfies clearguard.crypto.erasure.ShredListener: a shredded declarant's drafts are deleted
    (they no longer open anyway; the rows would only be noise)."""

    def party_shredded(self, session: Session, party_ref: str) -> None:
        index = trader_index_of(party_ref)
        if index is None:
            return
        session.execute(
            delete(DeclarationDraftRow)
            .where(DeclarationDraftRow.declarant_index == index)
            .execution_options(synchronize_session=False)
        )
