"""What the travellers' service returns. Plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clearguard.crypto.fields import ERASED_TEXT
from clearguard.travellers.record import template_fingerprint


@dataclass(frozen=True, slots=True)
class RecordSummary:
    """A record's metadata: what a listing shows (nothing about the traveller)."""

    record_id: str
    office: str
    officer: str
    declared_via: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "office": self.office,
            "officer": self.officer,
            "declared_via": self.declared_via,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class RecordView:
    """One record opened. `erased`: the traveller's key was shredded, so the traveller's part reads as
    erased (None here, "[erased]" in to_dict)."""

    record_id: str
    office: str
    officer: str
    declared_via: str
    created_at: datetime
    erased: bool
    document_number: str | None
    nationality: str | None
    template: list[float] | None
    goods: list[str] | None

    def to_dict(self, *, with_template: bool = False) -> dict[str, Any]:
        """The template as its length and a SHA-256 prefix unless `with_template`."""
        out: dict[str, Any] = {
            "record_id": self.record_id,
            "office": self.office,
            "officer": self.officer,
            "declared_via": self.declared_via,
            "created_at": self.created_at.isoformat(),
            "erased": self.erased,
        }
        if self.erased or self.template is None:
            out |= {"document_number": ERASED_TEXT, "nationality": ERASED_TEXT, "goods": ERASED_TEXT}
            out["template"] = ERASED_TEXT
            return out
        out |= {"document_number": self.document_number, "nationality": self.nationality, "goods": self.goods}
        out["template"] = list(self.template) if with_template else template_fingerprint(self.template)
        return out


@dataclass(frozen=True, slots=True)
class DisposalResult:
    """What `dispose` did: records deleted, travellers whose data key was shredded (no record left)."""

    records: int
    travellers_shredded: int
