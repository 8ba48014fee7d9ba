"""What the declarations service returns: results, views, filters and pages. Plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from clearguard.compliance.findings import Finding


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: recorded on every transition and audit event."""

    name: str
    role: str
    source: str = "local"
    justification: str | None = None


@dataclass(frozen=True, slots=True)
class LodgeResult:
    mrn: str
    status: str
    channel: str | None
    version: int
    findings: list[Finding]
    created: bool
    ledger_index: int | None = None
    risk: dict[str, Any] = field(default_factory=dict)
    receipt: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "mrn": self.mrn,
            "status": self.status,
            "channel": self.channel,
            "version": self.version,
            "created": self.created,
            "findings": [f.to_dict() for f in self.findings],
            "ledger_index": self.ledger_index,
            "receipt": self.receipt,
        }


@dataclass(frozen=True, slots=True)
class DeclarationView:
    id: int
    mrn: str
    lrn: str
    type: str
    office: str
    status: str
    channel: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    document: dict[str, Any]
    findings: list[dict[str, Any]]
    party_refs: dict[str, str]
    # When it falls due for disposal and why (clearguard.retention), when a schedule is wired.
    retention: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = _header(self) | {
            "updated_at": self.updated_at.isoformat(),
            "findings": self.findings,
            "document": self.document,
        }
        if self.retention is not None:
            out["retention"] = self.retention
        return out


@dataclass(frozen=True, slots=True)
class Summary:
    id: int
    mrn: str
    lrn: str
    type: str
    office: str
    status: str
    channel: str | None
    version: int
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return _header(self)


def _header(record: Summary | DeclarationView) -> dict[str, Any]:
    """The fields every view of a declaration starts with; nothing protected."""
    return {
        "mrn": record.mrn,
        "lrn": record.lrn,
        "type": record.type,
        "office": record.office,
        "status": record.status,
        "channel": record.channel,
        "version": record.version,
        "created_at": record.created_at.isoformat(),
    }


@dataclass(frozen=True, slots=True)
class ListFilter:
    status: str | None = None
    office: str | None = None
    offices: frozenset[str] | None = None  # access policy: only these offices
    type: str | None = None
    party_eori: str | None = None
    party_eoris: frozenset[str] | None = None  # access policy: only declarations these parties declared
    party_name: str | None = None
    lrn: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Summary]
    next_cursor: str | None
