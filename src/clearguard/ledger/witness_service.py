"""Witnessing, both ways.

As a witness: the logs this instance cosigns (`add_log`) and the tlog-witness `add-checkpoint`
handler. The check of the old size and the store of the new one happen in one transaction, on the
log's row locked FOR UPDATE (PostgreSQL) or under SQLite's write lock, so two racing requests can
never roll the recorded size back.

As a log: `submit` sends our latest checkpoint with a consistency proof to each configured witness,
follows a 409 to the witness's size once, verifies the cosignatures it returns, and appends them to
our stored checkpoint note."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from clearguard.config import Settings
from clearguard.db import utcnow
from clearguard.ledger import store
from clearguard.ledger.cosignature import CosignatureSigner, cosignature_verifier
from clearguard.ledger.errors import LedgerError, NoteError
from clearguard.ledger.keys import load_or_create_key
from clearguard.ledger.note import ed25519_verifier, open_note
from clearguard.ledger.service import LedgerService
from clearguard.ledger.tables import LedgerCheckpointRow, WitnessedLog, WitnessPeer
from clearguard.ledger.witness import (
    SIZE_CONTENT_TYPE,
    LogState,
    cosignature_lines,
    decide,
    parse_add_checkpoint,
    peek_origin,
    request_body,
)


class WitnessService:
    def __init__(self, signer: CosignatureSigner) -> None:
        self.signer = signer

    @classmethod
    def from_settings(cls, settings: Settings) -> WitnessService:
        path = settings.ledger_witness_key_file or settings.keys_dir / "ledger-witness.key"
        return cls(CosignatureSigner(settings.ledger_witness_name, load_or_create_key(Path(path))))

    def vkey(self) -> str:
        return self.signer.vkey()

    def add_log(self, session: Session, origin: str, vkey: str, url: str) -> None:
        """Starts witnessing a log; its key must be an Ed25519 note key named as its origin."""
        verifier = ed25519_verifier(vkey)
        if verifier.name != origin:
            raise NoteError(f"verifier key name {verifier.name!r} is not the origin {origin!r}")
        row = session.get(WitnessedLog, origin)
        if row is None:
            session.add(WitnessedLog(origin=origin, vkey=vkey, url=url, size=0, updated_at=utcnow()))
        elif row.vkey != vkey:
            raise LedgerError(f"log {origin} is already witnessed with another key")
        else:
            row.url = url
        session.flush()

    def add_checkpoint(self, session: Session, body: bytes, timestamp: int | None = None) -> str:
        """Handles one add-checkpoint request in the caller's transaction; returns the cosignature
        lines, or raises WitnessError carrying the spec's HTTP status."""
        request = parse_add_checkpoint(body)
        origin = peek_origin(request.note)
        row = session.execute(
            select(WitnessedLog).where(WitnessedLog.origin == origin).with_for_update()
        ).scalar_one_or_none()
        state = None
        if row is not None:
            state = LogState(origin, (ed25519_verifier(row.vkey),), int(row.size), row.root)
        checkpoint = decide(request, state)
        assert row is not None
        row.size, row.root, row.note, row.updated_at = (
            checkpoint.size,
            checkpoint.root,
            request.note,
            utcnow(),
        )
        session.flush()
        return cosignature_lines(checkpoint, [self.signer], int(time.time()) if timestamp is None else timestamp)


@dataclass(frozen=True, slots=True)
class SubmitResult:
    witness: str
    ok: bool
    detail: str


def add_peer(session: Session, vkey: str, url: str) -> None:
    """Registers a witness to ask for cosignatures of our checkpoints."""
    name = cosignature_verifier(vkey).name
    row = session.get(WitnessPeer, name)
    if row is None:
        session.add(WitnessPeer(name=name, vkey=vkey, url=url, size=0))
    else:
        row.vkey, row.url = vkey, url
    session.flush()


def submit(
    ledger: LedgerService, session: Session, client: httpx.Client, peers: Sequence[WitnessPeer] | None = None
) -> list[SubmitResult]:
    """Asks each witness to cosign our latest checkpoint; stores the cosignatures it returns."""
    latest = store.latest_checkpoint(session)
    if latest is None:
        return []
    if peers is None:
        peers = list(session.execute(select(WitnessPeer)).scalars())
    results = []
    for peer in peers:
        results.append(_submit_one(ledger, session, client, peer, latest))
    return results


def _submit_one(
    ledger: LedgerService,
    session: Session,
    client: httpx.Client,
    peer: WitnessPeer,
    latest: LedgerCheckpointRow,
) -> SubmitResult:
    verifier = cosignature_verifier(peer.vkey)
    url = peer.url.rstrip("/") + "/add-checkpoint"
    old = int(peer.size)
    signed_note = _log_signature_only(ledger, latest.note)
    for _attempt in range(2):
        proof = ledger.consistency_proof(session, old, latest.size) if 0 < old < latest.size else []
        response = client.post(url, content=request_body(old, proof, signed_note))
        if response.status_code == 409 and response.headers.get("content-type", "").startswith(SIZE_CONTENT_TYPE):
            witnessed = int(response.text.strip())
            if witnessed > latest.size or witnessed == old:
                return SubmitResult(peer.name, False, f"409: witness holds size {witnessed}")
            old = witnessed
            continue
        if response.status_code != 200:
            return SubmitResult(peer.name, False, f"{response.status_code}: {response.text.strip()}")
        try:
            opened = open_note(signed_note + response.text, [verifier])
        except NoteError as exc:
            return SubmitResult(peer.name, False, f"cosignature does not verify: {exc}")
        lines = "".join(sig.line() for sig in opened.verified if sig.name == verifier.name)
        latest.note = latest.note + lines
        peer.size = latest.size
        session.flush()
        return SubmitResult(peer.name, True, f"cosigned size {latest.size}")
    return SubmitResult(peer.name, False, "witness size kept changing")


def _log_signature_only(ledger: LedgerService, note: str) -> str:
    """Our checkpoint with only the log's own signature (witnesses need nothing else)."""
    opened = open_note(note, [ledger.verifier])
    return opened.text + "\n" + "".join(s.line() for s in opened.verified)
