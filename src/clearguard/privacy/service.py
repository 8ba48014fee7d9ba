"""PrivacyService: the one way in to privacy. Field inventory, subject access reports, data subject
requests (access, rectification, erasure) and the records of processing.

Retention comes through the RetentionView port (None until wired: reports say "unknown" and no
erasure request is ever carried out). Every report and every request and answer is an audit event,
committed with what it records; the subject is named in the trail only by its party reference.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from clearguard.audit import AuditQuery, AuditService, NewAuditEvent
from clearguard.categories import DataCategory
from clearguard.config import Settings
from clearguard.crypto.fields import Erased, FieldRef
from clearguard.db import transaction, utcnow
from clearguard.declaration_model import LEGAL_BASES, PURPOSES
from clearguard.declarations.ports import FieldVault
from clearguard.declarations.results import Actor
from clearguard.declarations.service import DeclarationService
from clearguard.declarations.subjects import SubjectKey
from clearguard.errors import ClearGuardError, Conflict, InputError, NotFound
from clearguard.privacy import records as records_of_processing
from clearguard.privacy.inventory import PARTNER_RECIPIENTS, inventory, recipients
from clearguard.privacy.ports import RetentionView
from clearguard.privacy.tables import PrivacyRequestRow

KINDS: Final = ("access", "rectification", "erasure")
STATUSES: Final = ("open", "answered", "refused", "carried_out")
NO_POLICY: Final = "no retention policy configured"
MAX_DETAILS = 4000
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_DEFAULT_OUTCOME: Final = {"access": "subject access report provided (clearguard privacy subject-access)"}


class EoriChecker(Protocol):
    def check_eori(self, eori: str, *, field: str, today: date | None = None) -> str: ...


class Shredder(Protocol):
    """The key service's crypto-shredding (clearguard.crypto.CryptoService)."""

    def shred(self, session: Session, party_ref: str) -> int: ...

    def finish_shreds(self, factory: sessionmaker[Session], *, batch: int = 500) -> int: ...


@dataclass(frozen=True, slots=True)
class Subject:
    """A data subject as the operator named it: the identifier stays in this object (for the report's
    eyes) and never reaches a table or the audit trail, which see `key.party_ref` only."""

    kind: Literal["trader", "person"]
    key: SubjectKey
    shown: dict[str, str | None]

    @property
    def ref(self) -> str:
        return self.key.party_ref


def one_month_after(day: date) -> date:
    """The same day of the next calendar month, or its last day (31 January -> 28/29 February)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _trader_index(party_ref: str) -> str | None:
    return party_ref.removeprefix("eori:") if party_ref.startswith("eori:") else None


class PrivacyService:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        settings: Settings,
        declarations: DeclarationService,
        audit: AuditService,
        eori: EoriChecker,
        vault: FieldVault,
        shredder: Shredder | None = None,
        retention: RetentionView | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sf = session_factory
        self.settings = settings
        self._declarations = declarations
        self._audit = audit
        self._eori = eori
        self._vault = vault
        self._shredder = shredder
        self.retention = retention
        self._clock = clock

    # ------------------------------------------------------------------ subjects

    def trader(self, eori: str, *, field: str = "party") -> Subject:
        value = self._eori.check_eori(eori.strip().removeprefix("eori:"), field=field)
        return Subject("trader", self._declarations.trader_subject(value), {"eori": value})

    def person(self, name: str | None, postcode: str | None, country: str | None) -> Subject:
        if not name or not name.strip() or len(name) > 70:
            raise InputError("person: a natural person's name is required (at most 70 characters)", field="person")
        if not country or not _COUNTRY.fullmatch(country.strip().upper()):
            raise InputError("country: a person needs --country, two letters (ISO 3166)", field="country")
        if postcode is not None and (not postcode.strip() or len(postcode) > 17):
            raise InputError("postcode: 1 to 17 characters", field="postcode")
        country = country.strip().upper()
        key = self._declarations.person_subject(name, postcode, country)
        return Subject("person", key, {"name": name.strip(), "postcode": postcode, "country": country})

    # ------------------------------------------------------------------ inventory and records

    def fields(self) -> dict[str, Any]:
        """Every stored declaration field and the other stored personal data (item 4)."""
        return inventory(self.retention)

    def records(self) -> dict[str, Any]:
        """The records of processing (GDPR Art. 30(1)), generated from the same sources."""
        return records_of_processing.build(self.settings, self.retention)

    # ------------------------------------------------------------------ subject access (Art. 15)

    def subject_access(
        self, subject: Subject, actor: Actor, *, output: str = "json", staff_as_roles: bool = False
    ) -> dict[str, Any]:
        """Everything held on the subject, opened for this report only, and every access to it. The
        report is itself an audit event. `staff_as_roles`: staff named by role (a trader's own report)."""
        held = self._declarations.subject_declarations(subject.key)
        mrns = [d["mrn"] for d in held]
        with transaction(self._sf) as session:
            accesses = self._accesses(session, subject.key, mrns)
            retention, holds = self._retention(session, subject.ref, mrns)
            self._audit.record(
                session,
                NewAuditEvent(
                    actor=actor.name, role=actor.role, action="privacy.subject-access", record_type="privacy_subject",
                    record_id=None, party=subject.ref, source=actor.source, justification=actor.justification,
                    details={"declarations": len(held), "format": output},
                ),
            )  # fmt: skip
        if staff_as_roles:
            for event in accesses:
                if event["role"] not in ("trader", "broker"):
                    event["actor"] = event["role"]
        categories = sorted({c for d in held for v in d["versions"] for c in _categories_in(d["type"], v)})
        return {
            "subject": {"kind": subject.kind, **subject.shown, "reference": subject.ref},
            "generated_at": self._clock().isoformat(),
            "generated_by": actor.name,
            "controller": records_of_processing.controller(self.settings),
            "declarations": held,
            "purposes": _purposes_of(held),
            "recipients": {
                "roles": {c: recipients(DataCategory(c)) for c in categories},
                "partners": list(PARTNER_RECIPIENTS),
            },
            "accesses": accesses,
            "retention": retention,
            "holds": holds,
            "retention_configured": self.retention is not None,
        }

    def _accesses(self, session: Session, key: SubjectKey, mrns: Sequence[str]) -> list[dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        queries = [AuditQuery(party=key.party_ref)]
        if key.eori_index is not None:
            queries.append(AuditQuery(party=key.eori_index))
        queries += [AuditQuery(record_type="declaration", record_id=mrn) for mrn in mrns]
        for query in queries:
            for event in self._audit.query(session, query):
                found[event.event_id] = {
                    "at": event.at.isoformat(),
                    "actor": event.actor,
                    "role": event.role,
                    "action": event.action,
                    "record_type": event.record_type,
                    "record_id": event.record_id,
                    "source": event.source,
                    "justification": event.justification,
                    "outcome": event.outcome,
                    "ledger_index": event.ledger_index,
                }
        return sorted(found.values(), key=lambda e: (e["at"], e["ledger_index"] or 0))

    def _retention(
        self, session: Session, party_ref: str, mrns: Sequence[str]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        if self.retention is None:
            return [{"mrn": mrn, "retention": "unknown", "reason": NO_POLICY} for mrn in mrns], []
        schedule = self.retention.schedule(session, mrns)
        rows = [{"mrn": mrn, **schedule.get(mrn, {"retention": "unknown"})} for mrn in mrns]
        holds = [_plain(h) for h in self.retention.holds_covering(session, party_ref, mrns)]
        return rows, holds

    # ------------------------------------------------------------------ requests (Art. 15-17)

    def add_request(self, kind: str, subject: Subject, details: str, actor: Actor) -> dict[str, Any]:
        if kind not in KINDS:
            raise InputError(f"kind: one of {', '.join(KINDS)}", field="kind")
        if not details or not details.strip() or len(details) > MAX_DETAILS:
            raise InputError(f"details: what the subject asked, 1 to {MAX_DETAILS} characters", field="details")
        now = self._clock()
        with transaction(self._sf) as session:
            row = PrivacyRequestRow(
                kind=kind, party_ref=subject.ref, received_at=now, received_by=actor.name[:64],
                deadline=one_month_after(now.date()), status="open",
            )  # fmt: skip
            session.add(row)
            session.flush()
            key_id = self._vault.key_for_party(session, subject.ref)
            row.details = self._vault.seal(session, key_id, _details_ref(row.id), details.strip())
            row.details_key_id = key_id
            added = {"kind": kind, "deadline": row.deadline.isoformat()}
            self._event(session, actor, "privacy.request.add", row, added)
            return self._out(session, row, with_details=False)

    def list_requests(self, actor: Actor, *, overdue: bool = False) -> list[dict[str, Any]]:
        """Requests, oldest first, with what each asked opened (an audited read); `overdue`: open
        ones past their deadline."""
        today = self._clock().date()
        query = select(PrivacyRequestRow).order_by(PrivacyRequestRow.id)
        if overdue:
            query = query.where(PrivacyRequestRow.status == "open", PrivacyRequestRow.deadline < today)
        with transaction(self._sf) as session:
            rows = list(session.execute(query).scalars())
            if rows:
                self._audit.record(
                    session,
                    NewAuditEvent(
                        actor=actor.name, role=actor.role, action="privacy.request.list", record_type="privacy_request",
                        record_id=None, party=None, source=actor.source, details={"returned": len(rows)},
                    ),
                )  # fmt: skip
            return [self._out(session, row, with_details=True) for row in rows]

    def answer(self, request_id: int, actor: Actor, *, outcome: str | None = None) -> dict[str, Any]:
        """Answer an open request. Erasure: refused with the legal reason while any of the subject's
        declarations is within retention or held (or retention is unknown); otherwise carried out by
        crypto-shredding the subject's key, unless a shred listener refuses it (recorded as refused)."""
        if outcome is not None and (not outcome.strip() or len(outcome) > MAX_DETAILS):
            raise InputError(f"outcome: 1 to {MAX_DETAILS} characters", field="outcome")
        with transaction(self._sf) as session:
            row = self._open_row(session, request_id)
            if row.kind != "erasure":
                if row.kind == "rectification" and outcome is None:
                    raise InputError(
                        "outcome: say what was rectified (or why not: declarations are amended by their declarant)",
                        field="outcome",
                    )
                return self._close(session, row, actor, "answered", outcome or _DEFAULT_OUTCOME[row.kind], None)
            reasons = self._erasure_obstacles(session, row.party_ref)
            if reasons:
                return self._close(session, row, actor, "refused", outcome or "erasure refused", "; ".join(reasons))
            if self._shredder is None:
                return self._close(session, row, actor, "refused", outcome or "erasure refused", "no key service")
        try:
            with transaction(self._sf) as session:
                row = self._open_row(session, request_id)
                # Answered first (flushed), so that a listener that protects parties with open requests
                # sees this one as answered in the same transaction.
                done = self._close(
                    session, row, actor, "carried_out", outcome or "erased by crypto-shredding the subject's key", None
                )
                shredded = self._shredder.shred(session, row.party_ref)
                done["keys_shredded"] = shredded
        except ClearGuardError as refusal:
            with transaction(self._sf) as session:
                row = self._open_row(session, request_id)
                return self._close(session, row, actor, "refused", outcome or "erasure refused", str(refusal))
        self._shredder.finish_shreds(self._sf)
        return done

    def open_request_parties(self, session: Session) -> set[str]:
        """Party references (`eori:<hex>`, `person:<hex>`) of subjects with an open request: retention
        keeps their evidence until the request is answered."""
        rows = session.execute(select(PrivacyRequestRow.party_ref).where(PrivacyRequestRow.status == "open"))
        return set(rows.scalars())

    def _erasure_obstacles(self, session: Session, party_ref: str) -> list[str]:
        if self.retention is None:
            return [NO_POLICY]
        key = SubjectKey(party_ref, eori_index=_trader_index(party_ref))
        mrns = self._declarations.subject_mrns(session, key)
        today = self._clock().date()
        reasons = []
        schedule = self.retention.schedule(session, mrns)
        for mrn in mrns:
            entry = schedule.get(mrn)
            if entry is None:
                reasons.append(f"{mrn}: no retention schedule (never erased without one)")
                continue
            due = str(entry.get("disposal_due"))
            basis = entry.get("legal_basis") or "customs law"
            if entry.get("held"):
                reasons.append(f"{mrn}: under a legal hold")
            elif due == "indefinite" or due > today.isoformat():
                reasons.append(f"{mrn}: kept until {due} under policy {entry.get('policy')} ({basis})")
        for hold in self.retention.holds_covering(session, party_ref, mrns):
            case = f", case {hold['case']}" if hold.get("case") else ""
            reasons.append(f"legal hold {hold.get('id')} on the {hold.get('scope')}{case}: {hold.get('reason')}")
        return reasons

    def _open_row(self, session: Session, request_id: int) -> PrivacyRequestRow:
        row = session.execute(
            select(PrivacyRequestRow).where(PrivacyRequestRow.id == request_id).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"id: no privacy request {request_id}", field="id")
        if row.status != "open":
            raise Conflict(f"id: request {request_id} was already answered ({row.status})", field="id")
        return row

    def _close(
        self, session: Session, row: PrivacyRequestRow, actor: Actor, status: str, outcome: str, reason: str | None
    ) -> dict[str, Any]:
        row.status = status
        row.outcome = outcome.strip()
        row.legal_reason = reason
        row.answered_at = self._clock()
        row.answered_by = actor.name[:64]
        session.flush()
        self._event(session, actor, "privacy.request.answer", row, {"kind": row.kind, "status": status})
        return self._out(session, row, with_details=False)

    def _event(
        self, session: Session, actor: Actor, action: str, row: PrivacyRequestRow, details: dict[str, Any]
    ) -> None:
        self._audit.record(
            session,
            NewAuditEvent(
                actor=actor.name, role=actor.role, action=action, record_type="privacy_request",
                record_id=str(row.id), party=row.party_ref, source=actor.source, details=details,
            ),
        )  # fmt: skip

    def _out(self, session: Session, row: PrivacyRequestRow, *, with_details: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": row.id,
            "kind": row.kind,
            "party_ref": row.party_ref,
            "received_at": row.received_at.isoformat(),
            "received_by": row.received_by,
            "deadline": row.deadline.isoformat(),
            "status": row.status,
            "overdue": row.status == "open" and row.deadline < self._clock().date(),
            "outcome": row.outcome,
            "legal_reason": row.legal_reason,
            "answered_at": row.answered_at.isoformat() if row.answered_at else None,
            "answered_by": row.answered_by,
        }
        if with_details and row.details is not None and row.details_key_id is not None:
            plain = self._vault.open(session, row.details_key_id, _details_ref(row.id), row.details)
            out["details"] = "[erased]" if isinstance(plain, Erased) else plain
        return out


def _details_ref(request_id: int) -> FieldRef:
    return FieldRef("privacy_requests", str(request_id), "details", 1)


def _plain(value: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in value.items()}


def _categories_in(declaration_type: str, version: dict[str, Any]) -> set[str]:
    from clearguard.declarations.categorised import categorise

    return {c.value for _p, _v, c in categorise(declaration_type, version["document"])}


def _purposes_of(held: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The purposes and legal bases of the fields held on the subject."""
    from clearguard.privacy.inventory import MODELS, model_fields

    types = {d["type"] for d in held}
    pairs: dict[str, set[str]] = {}
    for declaration_type in sorted(types):
        for f in model_fields(MODELS[declaration_type]):
            if f.purpose:
                pairs.setdefault(f.purpose, set()).add(f.legal_basis or "")
    return [
        {
            "purpose": p,
            "description": PURPOSES[p],
            "legal_bases": [{"basis": b, "description": LEGAL_BASES.get(b, "")} for b in sorted(bases)],
        }
        for p, bases in sorted(pairs.items())
    ]
