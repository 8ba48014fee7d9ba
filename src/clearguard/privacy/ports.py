"""What privacy needs from retention, as a port: RetentionView.

Privacy sits above retention in the layers but talks to it only through this protocol, which the
retention capability's service implements and the composition root (clearguard.wiring) passes in.
Without one (None), reports say retention is "unknown" and erasure requests are refused: nothing is
ever erased without knowing what the law requires to keep.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.orm import Session


class RetentionView(Protocol):
    def policy_list(self) -> list[dict[str, Any]]:
        """Every policy: {"id","jurisdiction","record","categories":[...],"start","period","legal_basis",
        "extended_by":[...]}. record kinds: declaration, party_key, audit_event, risk_record, ledger_commitment,
        traveller. period: ISO 8601 like "P3Y", "P30D", or "indefinite"."""
        ...

    def jurisdictions(self) -> dict[str, list[str]]:
        """jurisdiction -> ISO country codes (EU -> 27 members, UK -> [GB], US -> [US])."""
        ...

    def schedule(self, session: Session, mrns: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Per MRN: {"policy": id, "jurisdiction": "EU", "start": "YYYY-MM-DD", "period": "P3Y",
        "disposal_due": "YYYY-MM-DD", "held": bool, "legal_basis": str}."""
        ...

    def holds_covering(self, session: Session, party_ref: str, mrns: Sequence[str]) -> list[dict[str, Any]]:
        """Active holds on the party or any of the MRNs: {"id","scope":"party|mrn","case": str|None,"reason","owner",
        "review": date|None,"created_at"}."""
        ...
