"""Witness alerts: the durable record that a log we watch showed a second history.

An alert is raised when a partner's log signs a checkpoint that is not consistent with the one we
cosigned (the witness refuses it) or with the one we mirrored (the mirror refuses it). It is kept
three ways, so that neither a crash nor a quiet edit loses it: a row holding both signed checkpoints
(the evidence anyone can re-check with the partner's key), an entry in our own ledger committing to
that row (kind `ledger.witness-alert`), and an event for the audit trail through the `WitnessEvents`
port (the detection capability reads audit events). Checkpoints are public data: nothing here is
personal or confidential."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearguard.db import utcnow
from clearguard.ledger.checkpoint import Checkpoint
from clearguard.ledger.commitment import LedgerEntry, commit_entry, commitment
from clearguard.ledger.tables import WitnessAlertRow
from clearguard.ledger.verification import Disposed, Erased

if TYPE_CHECKING:
    from clearguard.ledger.service import LedgerService

ALERT_KIND: Final = "ledger.witness-alert"
FORK_REFUSED: Final = "fork-refused"  # same size, another root: two signed trees, a proven fork
PROOF_REFUSED: Final = "proof-refused"  # a larger checkpoint whose consistency proof does not verify
MIRROR_REFUSED: Final = "mirror-refused"
_log = logging.getLogger(__name__)


class WitnessEvents(Protocol):
    """The audit trail, as the ledger sees it (implemented above, in audit, and passed in by wiring):
    the ledger may not import the layer that records events."""

    def witness_event(
        self, session: Session, *, action: str, origin: str, outcome: str, details: Mapping[str, Any]
    ) -> None:
        """Records one event about a partner's log (or a witness of ours) in the caller's transaction."""
        ...


@dataclass(frozen=True, slots=True)
class AlertEvidence:
    origin: str
    kind: str
    detail: str
    known_size: int  # the checkpoint we had cosigned or mirrored
    known_root: bytes | None
    known_note: str | None
    seen: Checkpoint  # the one that disagrees with it, signed by the same log key
    seen_note: str

    def fingerprint(self) -> str:
        h = hashlib.sha256(b"clearguard/witness-alert/v1\x00")
        for part in (
            self.origin.encode(),
            self.kind.encode(),
            str(self.known_size).encode(),
            self.known_root or b"",
            self.seen.body().encode(),
        ):
            h.update(len(part).to_bytes(8, "big") + part)
        return h.hexdigest()


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def canonical_alert(row: WitnessAlertRow) -> bytes:
    """What the alert's ledger entry commits to: every field but the salt and the index."""
    body = {
        "alert_id": row.alert_id,
        "at": row.at.isoformat(),
        "origin": row.origin,
        "kind": row.kind,
        "detail": row.detail,
        "known_size": int(row.known_size),
        "known_root": _b64(row.known_root),
        "known_note": row.known_note,
        "seen_size": int(row.seen_size),
        "seen_root": _b64(row.seen_root),
        "seen_note": row.seen_note,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def alert_json(row: WitnessAlertRow) -> dict[str, Any]:
    return {
        "id": row.alert_id,
        "at": row.at.isoformat(),
        "origin": row.origin,
        "kind": row.kind,
        "detail": row.detail,
        "known": {"size": int(row.known_size), "root": _b64(row.known_root), "checkpoint": row.known_note},
        "seen": {"size": int(row.seen_size), "root": _b64(row.seen_root), "checkpoint": row.seen_note},
        "ledger_index": row.ledger_index,
    }


def record_alert(
    session: Session, ledger: LedgerService, evidence: AlertEvidence, events: WitnessEvents | None = None
) -> tuple[WitnessAlertRow, bool]:
    """Records the alert in the caller's transaction; (row, False) when the same evidence was
    recorded before (a partner retrying its forked checkpoint raises one alert, not thousands)."""
    fingerprint = evidence.fingerprint()
    existing = session.execute(
        select(WitnessAlertRow).where(WitnessAlertRow.fingerprint == fingerprint)
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    row = WitnessAlertRow(
        alert_id=uuid.uuid4().hex,
        at=utcnow(),
        origin=evidence.origin,
        kind=evidence.kind,
        detail=evidence.detail[:2000],
        known_size=evidence.known_size,
        known_root=evidence.known_root,
        known_note=evidence.known_note,
        seen_size=evidence.seen.size,
        seen_root=evidence.seen.root,
        seen_note=evidence.seen_note,
        fingerprint=fingerprint,
        salt=secrets.token_bytes(32),
    )
    session.add(row)
    session.flush()
    row.ledger_index = ledger.append(session, commit_entry(ALERT_KIND, row.alert_id, canonical_alert(row), row.salt))
    if events is not None:
        events.witness_event(
            session,
            action="ledger.witness.alert",
            origin=evidence.origin,
            outcome="denied",
            details={
                "alert": row.alert_id,
                "kind": evidence.kind,
                "known_size": evidence.known_size,
                "known_root": _b64(evidence.known_root),
                "seen_size": evidence.seen.size,
                "seen_root": _b64(evidence.seen.root),
            },
        )
    session.flush()
    _log.warning(
        "witness alert %s: log %s showed a second history (%s): size %d root %s vs size %d root %s",
        row.alert_id,
        evidence.origin,
        evidence.kind,
        evidence.known_size,
        _b64(evidence.known_root),
        evidence.seen.size,
        _b64(evidence.seen.root),
    )
    return row, True


def list_alerts(session: Session, origin: str | None = None) -> list[WitnessAlertRow]:
    query = select(WitnessAlertRow).order_by(WitnessAlertRow.at, WitnessAlertRow.alert_id)
    if origin is not None:
        query = query.where(WitnessAlertRow.origin == origin)
    return list(session.execute(query).scalars())


class WitnessAlertCommitments:
    """The verifier's view of the alerts: an edited, deleted or inserted alert row is caught."""

    kind = ALERT_KIND

    def recompute(
        self, session: Session, entries: Sequence[tuple[int, LedgerEntry]]
    ) -> Mapping[int, bytes | Erased | Disposed]:
        indices = [idx for idx, _ in entries]
        rows = session.execute(select(WitnessAlertRow).where(WitnessAlertRow.ledger_index.in_(indices))).scalars()
        found: dict[int, bytes | Erased | Disposed] = {}
        for row in rows:
            assert row.ledger_index is not None
            found[int(row.ledger_index)] = commitment(ALERT_KIND, row.alert_id, canonical_alert(row), row.salt)
        return found

    def ledger_indices(self, session: Session) -> Sequence[tuple[int | None, str, str | None]]:
        rows = session.execute(select(WitnessAlertRow.ledger_index, WitnessAlertRow.alert_id)).all()
        return [(None if idx is None else int(idx), f"alert {aid}", aid) for idx, aid in rows]

    def consistency(self, session: Session) -> Sequence[tuple[int | None, str]]:
        return []
