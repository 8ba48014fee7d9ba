"""The read side of declarations: headers, one declaration with what the caller may see opened, its
transitions and receipts, and filtered lists.

Reads of protected data and listings with an actor are audit events, committed with the read (in a
writing transaction); everything else reads through the read-only session factory.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from clearguard.categories import DataCategory
from clearguard.crypto.fields import ERASED_TEXT, Erased
from clearguard.declarations import documents
from clearguard.declarations.cursors import open_cursor, seal_cursor
from clearguard.declarations.disposal import party_keys
from clearguard.declarations.mrn import validate_mrn
from clearguard.declarations.parties import normalise_eori, normalise_name
from clearguard.declarations.planner import audit_events
from clearguard.declarations.ports import AuditRecorder, FieldVault, RetentionSchedule
from clearguard.declarations.record_format import group_ref
from clearguard.declarations.results import Actor, DeclarationView, ListFilter, Page, Summary
from clearguard.declarations.tables import (
    DeclarationEventRow,
    DeclarationPartyRow,
    DeclarationRow,
    DeclarationVersionRow,
)
from clearguard.errors import Gone, InputError, NotFound


def vars_of(filters: ListFilter) -> dict[str, Any]:
    return {f.name: getattr(filters, f.name) for f in dataclasses.fields(filters)}


def summary_of(row: DeclarationRow, *, status: str | None = None) -> Summary:
    return Summary(
        row.id,
        row.mrn,
        row.lrn,
        row.type,
        row.office,
        status or row.status,
        row.channel,
        row.current_version,
        row.created_at,
    )


def disposed_error(row: DeclarationRow) -> Gone:
    when = row.disposed_at.date().isoformat() if row.disposed_at is not None else "an unknown date"
    return Gone(
        f"mrn: {row.mrn} was disposed of on {when} under its retention policy (retention run {row.disposal_run}, "
        "whose certificate is in the ledger); its values are gone",
        field="mrn",
        extra={"disposal_run": row.disposal_run, "disposed_at": when},
    )


def find_by_lrn(session: Session, vault: FieldVault, eori: str, lrn: str) -> DeclarationRow | None:
    index = vault.blind_index("eori", normalise_eori(eori))
    return session.execute(
        select(DeclarationRow).where(DeclarationRow.declarant_index == index, DeclarationRow.lrn == lrn)
    ).scalar_one_or_none()


class DeclarationQueries:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        read_factory: sessionmaker[Session],
        *,
        vault: FieldVault,
        audit: AuditRecorder | None = None,
        receipts: Callable[[int], dict[str, Any]] | None = None,
        retention: RetentionSchedule | None = None,
    ) -> None:
        self._sf = session_factory
        self._retention = retention
        self._read = read_factory
        self._vault = vault
        self._audit = audit
        self._receipts = receipts

    def _record(self, session: Session, actor: Actor, action: str, mrn: str | None, details: dict[str, Any]) -> None:
        if self._audit is not None:
            self._audit.record_many(session, audit_events(self._vault, action, [(actor, mrn, None, details)]))

    def header(self, mrn: str) -> Summary:
        """Status and routing data only: nothing protected is read."""
        mrn = validate_mrn(mrn)
        with self._read() as session:
            row = session.execute(select(DeclarationRow).where(DeclarationRow.mrn == mrn)).scalar_one_or_none()
            if row is None:
                raise NotFound(f"mrn: no declaration {mrn}", field="mrn")
            return summary_of(row)

    def declarant_party(self, mrn: str) -> str:
        """The blind index of the declarant's EORI, for access decisions."""
        mrn = validate_mrn(mrn)
        with self._read() as session:
            index = session.execute(
                select(DeclarationRow.declarant_index).where(DeclarationRow.mrn == mrn)
            ).scalar_one_or_none()
            if index is None:
                raise NotFound(f"mrn: no declaration {mrn}", field="mrn")
            return index

    def get(
        self,
        mrn: str,
        *,
        reveal: Callable[[str, DataCategory], bool] = lambda _p, _c: True,
        version: int | None = None,
        actor: Actor | None = None,
    ) -> DeclarationView:
        """The declaration with the protected values `reveal` allows opened (only those are decrypted).
        With an actor, the read of protected data is an audit event committed with the read."""
        mrn = validate_mrn(mrn)
        with self._sf() as session, session.begin():
            row = session.execute(select(DeclarationRow).where(DeclarationRow.mrn == mrn)).scalar_one_or_none()
            if row is None:
                raise NotFound(f"mrn: no declaration {mrn}", field="mrn")
            if row.disposal_run is not None:
                raise disposed_error(row)
            wanted = version or row.current_version
            vrow = session.execute(
                select(DeclarationVersionRow).where(
                    DeclarationVersionRow.declaration_id == row.id, DeclarationVersionRow.version == wanted
                )
            ).scalar_one_or_none()
            if vrow is None:
                raise NotFound(f"version: {mrn} has no version {wanted}", field="version")
            opened: list[str] = []

            def open_values(entries: list[tuple[str, list[Any]]]) -> list[Any]:
                opened.extend(name for name, _entry in entries)
                plains = self._vault.open_many(
                    session,
                    [
                        (int(entry[1]), group_ref(mrn, name, wanted), base64.b64decode(entry[2]))
                        for name, entry in entries
                    ],
                )
                return [ERASED_TEXT if isinstance(plain, Erased) else orjson.loads(plain) for plain in plains]

            document = documents.join(row.type, vrow.clear_doc, vrow.protected, reveal, open_values)
            if actor is not None and opened:
                self._record(session, actor, "declaration.read", mrn, {"version": wanted, "opened": sorted(opened)})
            parties = session.execute(
                select(DeclarationPartyRow.role, DeclarationPartyRow.party_ref).where(
                    DeclarationPartyRow.declaration_id == row.id, DeclarationPartyRow.version == wanted
                )
            ).all()
            retention = None
            if self._retention is not None:
                retention = self._retention.schedule_of(
                    session,
                    mrn=row.mrn,
                    office=row.office,
                    accepted_at=row.created_at,
                    parties=party_keys(session, [row.id])[row.id],
                )
            return DeclarationView(
                row.id,
                row.mrn,
                row.lrn,
                row.type,
                row.office,
                row.status,
                row.channel,
                wanted,
                row.created_at,
                row.updated_at,
                document,
                vrow.findings,
                {r: p for r, p in parties},
                retention,
            )

    def receipt_for(self, mrn: str, version: int | None = None) -> dict[str, Any]:
        """The ledger receipt of a declaration version (the current one by default)."""
        mrn = validate_mrn(mrn)
        with self._read() as session:
            query = (
                select(DeclarationVersionRow.ledger_index, DeclarationVersionRow.version)
                .join(DeclarationRow, DeclarationRow.id == DeclarationVersionRow.declaration_id)
                .where(DeclarationRow.mrn == mrn)
            )
            if version is not None:
                query = query.where(DeclarationVersionRow.version == version)
            found = session.execute(query.order_by(DeclarationVersionRow.version.desc()).limit(1)).first()
        if found is None:
            raise NotFound(f"mrn: no declaration {mrn}" + (f" version {version}" if version else ""), field="mrn")
        if found[0] is None or self._receipts is None:
            raise NotFound(f"mrn: {mrn} version {found[1]} has no ledger entry", field="mrn")
        return self._receipts(int(found[0]))

    def events(self, mrn: str) -> list[dict[str, Any]]:
        mrn = validate_mrn(mrn)
        with self._read() as session:
            found = session.execute(select(DeclarationRow).where(DeclarationRow.mrn == mrn)).scalar_one_or_none()
            if found is None:
                raise NotFound(f"mrn: no declaration {mrn}", field="mrn")
            if found.disposal_run is not None:
                raise disposed_error(found)
            rows = session.execute(
                select(DeclarationEventRow)
                .where(DeclarationEventRow.declaration_id == found.id)
                .order_by(DeclarationEventRow.id)
            ).scalars()
            return [
                {
                    "version": e.version,
                    "from": e.from_status,
                    "to": e.to_status,
                    "actor": e.actor,
                    "role": e.role,
                    "reason": e.reason,
                    "at": e.at.isoformat(),
                    "ledger_index": e.ledger_index,
                }
                for e in rows
            ]

    def list(
        self,
        filters: ListFilter | None = None,
        *,
        limit: int = 50,
        cursor: str | None = None,
        actor: Actor | None = None,
    ) -> Page:
        """Summaries only (nothing protected is decrypted); with an actor, the listing is audited."""
        filters = filters or ListFilter()
        if not 1 <= limit <= 500:
            raise InputError("limit: must be between 1 and 500", field="limit")
        query = select(DeclarationRow).where(DeclarationRow.disposal_run.is_(None))
        if filters.status:
            query = query.where(DeclarationRow.status == filters.status)
        if filters.office:
            query = query.where(DeclarationRow.office == filters.office)
        if filters.offices is not None:
            query = query.where(DeclarationRow.office.in_(sorted(filters.offices)))
        if filters.type:
            query = query.where(DeclarationRow.type == filters.type)
        if filters.lrn:
            query = query.where(DeclarationRow.lrn == filters.lrn)
        if filters.since:
            query = query.where(DeclarationRow.created_at >= filters.since)
        if filters.until:
            query = query.where(DeclarationRow.created_at < filters.until)
        if filters.party_eoris is not None:
            indexes = sorted(self._vault.blind_index("eori", normalise_eori(e)) for e in filters.party_eoris)
            query = query.where(DeclarationRow.declarant_index.in_(indexes))
        if filters.party_eori:
            index = self._vault.blind_index("eori", normalise_eori(filters.party_eori))
            query = query.where(
                DeclarationRow.id.in_(
                    select(DeclarationPartyRow.declaration_id).where(DeclarationPartyRow.eori_index == index)
                )
            )
        if filters.party_name:
            index = self._vault.blind_index("name", normalise_name(filters.party_name))
            query = query.where(
                DeclarationRow.id.in_(
                    select(DeclarationPartyRow.declaration_id).where(DeclarationPartyRow.name_index == index)
                )
            )
        if cursor:
            query = query.where(DeclarationRow.id < open_cursor(self._vault, cursor))
        query = query.order_by(DeclarationRow.id.desc()).limit(limit + 1)
        with self._sf() as session, session.begin():
            rows: Sequence[DeclarationRow] = list(session.execute(query).scalars())
            if actor is not None:
                shown = {k: v for k, v in vars_of(filters).items() if v is not None and k != "party_eoris"}
                self._record(
                    session,
                    actor,
                    "declaration.list",
                    None,
                    {"filters": sorted(shown), "returned": min(len(rows), limit)},
                )
        more = len(rows) > limit
        rows = rows[:limit]
        return Page([summary_of(r) for r in rows], seal_cursor(self._vault, rows[-1].id) if more and rows else None)

    def count(self) -> int:
        with self._sf() as session:
            return int(session.execute(select(func.count()).select_from(DeclarationRow)).scalar_one())
