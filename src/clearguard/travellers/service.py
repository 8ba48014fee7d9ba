"""TravellerService: the one way traveller clearance records are written, read and disposed of.

Every record is sealed whole under a data key of its own traveller (party `traveller:<blind index of
the normalised document number and nationality>`), with the table, record id, field and format version
bound in as associated data. Writes and reads are audited in their own transaction; only officers of
the record's office record or read it. Records are never a risk or detection feature and never shared:
no capability below the entry layer imports this one (import-linter contract `travellers-private`).

Retention calls `due` and `dispose` in its own transaction: disposal deletes the rows and shreds the
key of every traveller left without a record, so what was disposed of is unrecoverable, backups
included.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from clearguard.access.principal import Principal
from clearguard.access.roles import Perm, holds
from clearguard.audit import NewAuditEvent
from clearguard.crypto.errors import KeyUnavailable
from clearguard.crypto.fields import Erased, FieldRef
from clearguard.db import transaction, utcnow
from clearguard.errors import Forbidden, InputError, NotFound
from clearguard.travellers.erasure import traveller_ref
from clearguard.travellers.errors import OtherOffice
from clearguard.travellers.ports import AuditRecorder, Shredder, TravellerVault
from clearguard.travellers.record import TravellerInput, normalise_document
from clearguard.travellers.tables import TravellerRecordRow
from clearguard.travellers.views import DisposalResult, RecordSummary, RecordView

TABLE: Final = "traveller_records"
FIELD: Final = "record"
FORMAT_VERSION: Final = 1
INDEX_KIND: Final = "traveller"
RECORD_TYPE: Final = "traveller_record"
RETENTION_DAYS: Final = 30  # the default retention of a record (the retention capability applies it)
JUSTIFICATION_MAX: Final = 2000
LIST_MAX: Final = 500
_ID_PREFIX: Final = "TRV-"
_SUMMARY: Final = (
    TravellerRecordRow.record_id,
    TravellerRecordRow.office,
    TravellerRecordRow.officer,
    TravellerRecordRow.declared_via,
    TravellerRecordRow.created_at,
)


def new_record_id() -> str:
    """Opaque and random: 'TRV-' and 24 hex digits (96 bits)."""
    return _ID_PREFIX + secrets.token_hex(12)


def _check_office(actor: Principal, permission: str, office: str) -> None:
    if not holds(actor.role, permission):
        raise Forbidden(f"{actor.role.value} lacks permission {permission}")
    if actor.office is None or actor.office != office:
        raise OtherOffice(
            f"office: traveller records of {office} are kept by its own officers "
            f"(yours: {actor.office or 'none'})",
            field="office",
        )


class TravellerService:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        vault: TravellerVault,
        audit: AuditRecorder,
        *,
        shredder: Shredder | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """`shredder`: what destroys a traveller's key at disposal (the CryptoService); without one,
        `dispose` refuses rather than leave a disposed traveller's key alive."""
        self._factory = session_factory
        self._vault = vault
        self._audit = audit
        self._shredder = shredder
        self._clock = clock

    # --- the traveller's identity ------------------------------------------------------------------

    def traveller_index(self, document_number: str, nationality: str) -> str:
        """The blind index of a traveller: of the normalised document number and the nationality."""
        document = normalise_document(document_number)
        country = nationality.strip().upper()
        if not document or not country:
            raise InputError("document_number and nationality: both are required", field="document_number")
        return self._vault.blind_index(INDEX_KIND, f"{country}:{document}")

    # --- records ------------------------------------------------------------------------------------

    def record(self, data: TravellerInput, actor: Principal, *, source: str = "local") -> RecordView:
        """Seal and store one record, with its audit event, in one transaction. Only an officer of
        `data.office` may record it."""
        _check_office(actor, Perm.TRAVELLERS_RECORD, data.office)
        index = self.traveller_index(data.document_number, data.nationality)
        record_id = new_record_id()
        now = self._clock()
        payload = {
            "document_number": data.document_number,
            "nationality": data.nationality,
            "template": data.template,
            "goods": data.goods,
        }
        plaintext = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        with transaction(self._factory) as session:
            key_id = self._vault.key_for_party(session, traveller_ref(index))
            [sealed] = self._vault.seal_many(session, [(key_id, _ref(record_id), plaintext)])
            session.add(
                TravellerRecordRow(
                    record_id=record_id,
                    office=data.office,
                    officer=actor.username,
                    created_at=now,
                    declared_via=data.declared_via,
                    key_id=key_id,
                    sealed=sealed,
                    traveller_index=index,
                )
            )
            self._audit.record(
                session,
                _event(actor, "traveller.record", record_id, index, source, details={"office": data.office}),
            )
        return RecordView(
            record_id, data.office, actor.username, data.declared_via, now, False,
            data.document_number, data.nationality, list(data.template), list(data.goods),
        )  # fmt: skip

    def get(self, record_id: str, actor: Principal, justification: str, *, source: str = "local") -> RecordView:
        """One record opened, for an officer of its office giving the reason; the read is audited in
        the same transaction. A shredded traveller's record reads as erased."""
        reason = (justification or "").strip()
        if not reason or len(reason) > JUSTIFICATION_MAX or "\x00" in reason:
            raise InputError(
                f"justification: why the record is opened, 1 to {JUSTIFICATION_MAX} characters",
                field="justification",
            )
        if not holds(actor.role, Perm.TRAVELLERS_READ):
            raise Forbidden(f"{actor.role.value} lacks permission {Perm.TRAVELLERS_READ}")
        with transaction(self._factory) as session:
            row = session.execute(
                select(TravellerRecordRow).where(TravellerRecordRow.record_id == record_id)
            ).scalar_one_or_none()
            if row is None:
                raise NotFound(f"record_id: no traveller record {record_id!r}", field="record_id")
            _check_office(actor, Perm.TRAVELLERS_READ, row.office)
            view = self._open(session, [row])[0]
            details = {"office": row.office, "erased": view.erased}
            event = _event(actor, "traveller.read", row.record_id, row.traveller_index, source, details=details)
            self._audit.record(session, replace(event, justification=reason))
        return view

    # --- retention and subject access (in the caller's transaction) ---------------------------------

    def due(self, session: Session, created_before: datetime) -> list[int]:
        """Row ids of the records created before `created_before` (retention's cut-off), oldest first."""
        return list(
            session.execute(
                select(TravellerRecordRow.id)
                .where(TravellerRecordRow.created_at < created_before)
                .order_by(TravellerRecordRow.created_at, TravellerRecordRow.id)
            ).scalars()
        )

    def dispose(self, session: Session, ids: Sequence[int]) -> DisposalResult:
        """Delete the records `ids` (row ids from `due`) and shred the key of every traveller left
        without a record, in the caller's transaction: it commits with the caller's certificate, or
        nothing is disposed of. Ids that no longer exist are skipped."""
        if self._shredder is None:
            raise KeyUnavailable("no envelope-encryption service is configured: disposal would leave keys alive")
        wanted = sorted(set(ids))
        found: list[tuple[int, str | None]] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.extend(
                (int(row_id), index)
                for row_id, index in session.execute(
                    select(TravellerRecordRow.id, TravellerRecordRow.traveller_index).where(
                        TravellerRecordRow.id.in_(chunk)
                    )
                )
            )
            session.execute(
                delete(TravellerRecordRow)
                .where(TravellerRecordRow.id.in_(chunk))
                .execution_options(synchronize_session=False)
            )
        travellers = sorted({index for _row, index in found if index is not None})
        shredded = 0
        for index in travellers:
            left = session.execute(
                select(TravellerRecordRow.id).where(TravellerRecordRow.traveller_index == index).limit(1)
            ).first()
            if left is None:
                self._shredder.shred(session, traveller_ref(index))
                shredded += 1
        return DisposalResult(records=len(found), travellers_shredded=shredded)

    def subject_records(self, session: Session, document_number: str, nationality: str) -> list[RecordView]:
        """Every record of one traveller, opened (for a subject access report), oldest first. The
        caller audits the report."""
        index = self.traveller_index(document_number, nationality)
        rows = list(
            session.execute(
                select(TravellerRecordRow)
                .where(TravellerRecordRow.traveller_index == index)
                .order_by(TravellerRecordRow.created_at, TravellerRecordRow.id)
            ).scalars()
        )
        return self._open(session, rows)

    def _open(self, session: Session, rows: Sequence[TravellerRecordRow]) -> list[RecordView]:
        opened = self._vault.open_many(session, [(row.key_id, _ref(row.record_id), row.sealed) for row in rows])
        views: list[RecordView] = []
        for row, text in zip(rows, opened, strict=True):
            base = (row.record_id, row.office, row.officer, row.declared_via, row.created_at)
            if isinstance(text, Erased):
                views.append(RecordView(*base, True, None, None, None, None))
                continue
            body: dict[str, Any] = json.loads(text)
            template = [float(v) for v in body["template"]]
            document, nationality = body["document_number"], body["nationality"]
            views.append(RecordView(*base, False, document, nationality, template, body["goods"]))
        return views


    def list(
        self,
        office: str,
        actor: Principal | None,
        *,
        limit: int = 100,
        source: str = "local",
        operator: str = "operator",
    ) -> list[RecordSummary]:
        """The office's records, newest first: metadata only, nothing about any traveller. `actor`
        None is the local operator (the CLI without --officer), audited under the name `operator`;
        an account must be an officer of the office."""
        if actor is not None:
            _check_office(actor, Perm.TRAVELLERS_READ, office)
        limit = max(1, min(limit, LIST_MAX))
        with transaction(self._factory) as session:
            rows = session.execute(
                select(*_SUMMARY)
                .where(TravellerRecordRow.office == office)
                .order_by(TravellerRecordRow.created_at.desc(), TravellerRecordRow.id.desc())
                .limit(limit)
            ).all()
            details = {"office": office, "count": len(rows)}
            name, role = (operator, "system") if actor is None else (actor.username, actor.role.value)
            event = NewAuditEvent(name, role, "traveller.list", RECORD_TYPE, None, None, source, details=details)
            self._audit.record(session, event)
        return [RecordSummary(*row) for row in rows]

def _ref(record_id: str) -> FieldRef:
    return FieldRef(TABLE, record_id, FIELD, FORMAT_VERSION)


def _event(
    actor: Principal,
    action: str,
    record_id: str | None,
    traveller: str | None,
    source: str,
    *,
    details: dict[str, Any] | None = None,
) -> NewAuditEvent:
    return NewAuditEvent(
        actor=actor.username,
        role=actor.role.value,
        action=action,
        record_type=RECORD_TYPE,
        record_id=record_id,
        party=traveller,
        source=source,
        details=details,
    )
