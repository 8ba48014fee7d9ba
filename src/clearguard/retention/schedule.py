"""When each stored record falls due for disposal, and whether a hold keeps it.

A declaration's jurisdiction is the country of its office of presentation (its first two letters);
it is accepted when lodged (validation runs in the lodging transaction). A declaration is disposed of
as a whole, on the latest due date of the policies governing its categories; its risk records follow
it. The schedule is what `declarations show` and the API print beside a declaration.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from clearguard.categories import DataCategory
from clearguard.retention import holds
from clearguard.retention.policy import Policy, PolicySet

DECLARATION_CATEGORIES = (DataCategory.CODE, DataCategory.TRADE, DataCategory.CONFIDENTIAL, DataCategory.PERSONAL)


class OpenRequests(Protocol):
    def open_request_parties(self, session: Session) -> set[str]:
        """Party references of the subjects with an unanswered data-subject request: the evidence
        it concerns is kept until it is answered."""
        ...


@dataclass(frozen=True, slots=True)
class Due:
    policy: Policy
    start: datetime
    due: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.id,
            "jurisdiction": self.policy.jurisdiction,
            "start": self.start.date().isoformat(),
            "start_event": self.policy.start,
            "period": self.policy.to_dict()["period"],
            "disposal_due": self.due.date().isoformat() if self.due is not None else None,
            "legal_basis": self.policy.legal_basis,
        }


class Schedule:
    def __init__(self, policies: PolicySet) -> None:
        self.policies = policies
        self._requests: OpenRequests | None = None

    def watch_requests(self, requests: OpenRequests) -> None:
        """The privacy capability, built after this: its open requests protect their evidence."""
        self._requests = requests

    def open_request_parties(self, session: Session) -> set[str]:
        return set() if self._requests is None else self._requests.open_request_parties(session)

    def declaration(self, office: str, accepted_at: datetime) -> Due:
        """The policy whose period keeps the declaration longest, and when it falls due."""
        day = accepted_at.astimezone(UTC).date()
        return self._declaration(office[:2], datetime(day.year, day.month, day.day, tzinfo=UTC))

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one schedule per process; a run asks per day and country
    def _declaration(self, country: str, accepted_at: datetime) -> Due:
        best: Due | None = None
        for category in DECLARATION_CATEGORIES:
            policy = self.policies.governing("declaration", category, country, accepted_at)
            due = policy.due(accepted_at)
            if best is None or (best.due is not None and (due is None or due > best.due)):
                best = Due(policy, accepted_at, due)
        assert best is not None
        return best

    def records_of(self, office: str, accepted_at: datetime, declaration_due: str | None) -> dict[str, Any]:
        """When each kind of record kept about the declaration falls due: its versions (with the
        declaration), its risk records, the data keys that seal it, the audit events about it."""
        country = office[:2]
        risk = self.record("risk_record", DataCategory.CONFIDENTIAL, country, accepted_at)
        audit = self.policies.governing("audit_event", DataCategory.PERSONAL, country, accepted_at)
        return {
            "versions": {"policy": self.declaration(office, accepted_at).policy.id, "disposal_due": declaration_due},
            "risk_records": {
                "policy": risk.policy.id,
                "disposal_due": risk.due.date().isoformat() if risk.due is not None else None,
            },
            "party_keys": {
                "policy": self.policies.governing("party_key", DataCategory.PERSONAL, country, accepted_at).id,
                "disposal_due": "with the last record each key seals",
            },
            "audit_events": {"policy": audit.id, "disposal_due": f"{audit.to_dict()['period']} after each event"},
        }

    def record(self, kind: str, category: DataCategory, country: str, start: datetime) -> Due:
        policy = self.policies.governing(kind, category, country, start)
        return Due(policy, start, policy.due(start))

    def schedule_of(
        self, session: Session, *, mrn: str, office: str, accepted_at: datetime, parties: Collection[str]
    ) -> dict[str, Any]:
        """declarations.ports.RetentionSchedule: the declaration's due date, and the holds keeping it."""
        out = self.declaration(office, accepted_at).to_dict()
        out["records"] = self.records_of(office, accepted_at, out["disposal_due"])
        found = holds.covering(session, mrns=[mrn], parties=parties)
        requested = self.open_request_parties(session) & set(parties)
        out["held"] = bool(found or requested)
        # Ids only: a hold's reason and case may concern an investigation the declarant must not learn
        # of; the DPO reads them with `retention hold list`.
        out["holds"] = [h.id for h in found]
        out["request_open"] = bool(requested)
        return out
