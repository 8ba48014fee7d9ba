"""The record and commitment format of declarations: what each ledger entry commits to, and where
each sealed value lives. Used by the writer (the lifecycle service) and the verifier (commitments)
alike, so the two can never drift apart.

A version's entry commits to its canonical document, plus, for the first version, the automatic
transitions that came with it (lodged, accepted, the channel's status); every later transition (an
officer's decision, an amendment's re-routing) has an entry of its own, whose salt is sealed under the
declarant's key and bound to the entry's ledger index.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from clearguard.crypto.fields import FieldRef
from clearguard.declarations import documents

VERSION_KIND: Final = "declaration.version"
TRANSITION_KIND: Final = "declaration.transition"
VERSION_TABLE: Final = "declaration_versions"
EVENTS_TABLE: Final = "declaration_events"
# The columns of a transition that its commitment covers, in the event rows' order.
EVENT_KEYS: Final = ("version", "from_status", "to_status", "actor", "role", "reason", "at")


def version_record_id(mrn: str, version: int) -> str:
    """The record id a version's ledger entry names."""
    return f"{mrn}/{version}"


def version_canonical(
    document: bytes, lodge_events: Sequence[dict[str, Any]], decision: dict[str, Any] | None = None
) -> bytes:
    """What a version's ledger entry commits to: the canonical document, for the first version the
    automatic transitions that came with it, and the risk decision taken on it (commitments.py,
    `risk_decision`; entries written before decisions were committed have none)."""
    out = document
    if lodge_events:
        out += b"\n" + documents.canonical_json([e | {"at": e["at"].isoformat()} for e in lodge_events])
    if decision is not None:
        out += b"\n" + documents.canonical_json({"risk": decision})
    return out


# What of a recorded risk assessment a version commits to: the decision and what it rests on, not
# the officer's later confirmation (added beside it) nor the explanation (free-form).
DECISION_FIELDS = ("channel", "basis", "random", "score", "model", "assessed_at")


def risk_decision(assessment: dict[str, Any]) -> dict[str, Any] | None:
    """The committed part of a risk assessment in its JSON form (the risk engine's `to_json`, which
    lodging receives as the outcome's reasons); None when no assessment was recorded (no engine)."""
    if "assessed_at" not in assessment or "basis" not in assessment:
        return None
    decision = {key: assessment.get(key) for key in DECISION_FIELDS}
    # One spelling of the instant, whatever offset the clock or the database gave it.
    decision["assessed_at"] = datetime.fromisoformat(str(decision["assessed_at"])).astimezone(UTC).isoformat()
    return decision


def transition_canonical(mrn: str, event: dict[str, Any]) -> bytes:
    """What a transition's ledger entry commits to: its event row (EVENT_KEYS) and the MRN."""
    return documents.canonical_json({"mrn": mrn} | event | {"at": event["at"].isoformat()})


def group_ref(mrn: str, group: str, version: int) -> FieldRef:
    """Where a version's sealed group lives (bound into its ciphertext)."""
    return FieldRef(VERSION_TABLE, mrn, group, version)


def version_salt_ref(mrn: str, version: int) -> FieldRef:
    """Where a version's sealed commitment salt lives."""
    return FieldRef(VERSION_TABLE, mrn, "salt", version)


def transition_salt_ref(mrn: str, version: int, ledger_index: int) -> FieldRef:
    """Where a transition's sealed commitment salt lives: bound to its ledger index."""
    return FieldRef(EVENTS_TABLE, mrn, f"salt@{ledger_index}", version)
