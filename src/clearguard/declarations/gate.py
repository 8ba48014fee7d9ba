"""DeclarationGate: the access policy applied around DeclarationService, for routes and the portal.

Every read: policy (404 / 403 / break-glass) -> decrypt only what the role's view reveals -> redact
the clear categories the view withholds -> drop risk data the role may not see. A break-glass read
is recorded as its own flagged audit event, committed before any data is returned (fail closed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from clearguard.access.policy import (
    Action,
    ListScope,
    RecordRef,
    acting_parties,
    authorize_action,
    authorize_lodge,
    authorize_read,
    list_scope,
    redact_document,
)
from clearguard.access.principal import Principal
from clearguard.audit import NewAuditEvent
from clearguard.categories import DataCategory
from clearguard.declarations.categorised import categorise
from clearguard.declarations.ports import AuditRecorder
from clearguard.declarations.results import Actor, ListFilter
from clearguard.declarations.service import DeclarationService

# Members of a declaration response that are risk data (never shown to traders or brokers).
RISK_KEYS = frozenset({"risk", "risk_score", "risk_reasons", "score", "reasons"})


def actor_of(principal: Principal, source: str, justification: str | None = None) -> Actor:
    return Actor(name=principal.username, role=principal.role.value, source=source, justification=justification)


class DeclarationGate:
    def __init__(
        self,
        declarations: DeclarationService,
        *,
        party_key: Callable[[str], str],
        factory: sessionmaker[Session],
        audit: AuditRecorder | None = None,
    ) -> None:
        """`party_key` maps an EORI to what declarations store (the blind index of the EORI)."""
        self.declarations = declarations
        self.party_key = party_key
        self.factory = factory
        self.audit = audit

    def ref(self, mrn: str) -> RecordRef:
        header = self.declarations.header(mrn)
        return RecordRef(mrn=header.mrn, party=self.declarations.declarant_party(mrn), office=header.office)

    def check_lodge(self, principal: Principal, doc: dict[str, Any], today: date) -> None:
        declarant = doc.get("declarant") if isinstance(doc, dict) else None
        eori = declarant.get("eori") if isinstance(declarant, dict) else None
        # A body without a readable declarant is left to validation (422), which names the field.
        if isinstance(eori, str):
            authorize_lodge(principal, eori.strip().upper(), today)

    def draft_declarant(self, principal: Principal, doc: dict[str, Any], today: date) -> str | None:
        """The draft's declarant EORI when the principal may lodge for it (its drafts are then sealed
        under that party's key); None while the draft names no such declarant yet."""
        declarant = doc.get("declarant")
        eori = declarant.get("eori") if isinstance(declarant, dict) else None
        if not isinstance(eori, str):
            return None
        eori = eori.strip().upper()
        return eori if eori in acting_parties(principal, today) else None

    def check_action(self, principal: Principal, mrn: str, action: Action, today: date) -> RecordRef:
        ref = self.ref(mrn)
        authorize_action(principal, ref, action, today, party_key=self.party_key)
        return ref

    def list_filter(self, principal: Principal, today: date, base: ListFilter) -> ListFilter | None:
        """The caller's filters narrowed to what the principal may see; None if it may see nothing."""
        scope: ListScope = list_scope(principal, today)
        if scope.empty:
            return None
        narrowed = base
        if scope.parties is not None:
            parties = scope.parties if base.party_eoris is None else base.party_eoris & scope.parties
            narrowed = dataclasses.replace(narrowed, party_eoris=parties)
        if scope.offices is not None:
            offices = scope.offices if base.offices is None else base.offices & scope.offices
            narrowed = dataclasses.replace(narrowed, offices=offices)
        return narrowed

    def read(
        self, principal: Principal, mrn: str, today: date, *, source: str, justification: str | None = None
    ) -> dict[str, Any]:
        ref = self.ref(mrn)
        grant = authorize_read(principal, ref, today, justification=justification, party_key=self.party_key)
        if grant.break_glass and self.audit is not None:
            with self.factory() as session, session.begin():
                self.audit.record_many(
                    session,
                    [
                        NewAuditEvent(
                            actor=principal.username,
                            role=principal.role.value,
                            action="declaration.break-glass",
                            record_type="declaration",
                            record_id=ref.mrn,
                            party=None,
                            source=source,
                            justification=grant.justification,
                            details={"break_glass": True, "office": ref.office, "officer_office": principal.office},
                        )
                    ],
                )
        view = grant.view
        kept_sealed: set[str] = set()

        def reveal(_ptr: str, category: DataCategory) -> bool:
            # Protected values the view withholds are never decrypted, only noted as withheld.
            if category in view.categories:
                return True
            kept_sealed.add(category.value)
            return False

        found = self.declarations.get(mrn, reveal=reveal, actor=actor_of(principal, source, grant.justification))
        body = found.to_dict()
        document, withheld = redact_document(found.document, categorise(found.type, found.document), view)
        body["document"] = document
        body["redacted"] = sorted(kept_sealed | set(withheld))
        if not view.contents:
            # Findings quote field values; a metadata-only view gets none.
            body["findings"] = []
        if not view.risk:
            for key in RISK_KEYS & body.keys():
                del body[key]
        if grant.break_glass:
            body["break_glass"] = True
        return body
