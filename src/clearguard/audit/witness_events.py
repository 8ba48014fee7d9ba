"""The ledger's WitnessEvents port, on the audit trail: failed submissions to partners' witnesses and
witness alerts become audit events (actor `system:witness`), where detection can pick them up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from clearguard.audit.service import AuditService, NewAuditEvent

ACTOR = "system:witness"


class AuditWitnessEvents:
    def __init__(self, audit: AuditService) -> None:
        self._audit = audit

    def witness_event(
        self, session: Session, *, action: str, origin: str, outcome: str, details: Mapping[str, Any]
    ) -> None:
        self._audit.record(
            session,
            NewAuditEvent(
                actor=ACTOR,
                role="system",
                action=action,
                record_type="ledger.log",
                record_id=origin,
                party=None,
                source="witness",
                outcome=outcome,
                details=dict(details),
            ),
        )
