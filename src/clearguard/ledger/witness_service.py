"""Witnessing, both ways.

As a witness: the logs this instance cosigns (`add_log`) and the tlog-witness `add-checkpoint`
handler. The check of the old size and the store of the new one happen in one transaction, on the
log's row locked FOR UPDATE (PostgreSQL) or under SQLite's write lock, so two racing requests can
never roll the recorded size back.

As a log: `submit` sends our latest checkpoint with a consistency proof to each configured witness,
follows a 409 to the witness's size once, verifies the cosignatures it returns, and appends them to
our stored checkpoint note. `submit_all` does the same without holding a transaction across the
network (the automatic submission after each integration, `WitnessSubmitter`), and
`register_partner` sets up both directions and the mirror for one partner administration.

A checkpoint that is not consistent with the one we cosigned is refused with the spec's status and
raises a witness alert (alerts.py)."""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from clearguard.config import Settings
from clearguard.crypto.tls import client_context
from clearguard.db import utcnow
from clearguard.ledger import store
from clearguard.ledger.alerts import (
    FORK_REFUSED,
    PROOF_REFUSED,
    AlertEvidence,
    WitnessEvents,
    alert_json,
    list_alerts,
    record_alert,
)
from clearguard.ledger.cosignature import CosignatureSigner, cosignature_verifier
from clearguard.ledger.errors import LedgerError, NoteError, WitnessInputError
from clearguard.ledger.keys import load_or_create_key
from clearguard.ledger.mirror import MirrorService
from clearguard.ledger.note import ed25519_verifier, open_note
from clearguard.ledger.service import LedgerService
from clearguard.ledger.tables import LedgerCheckpointRow, MirrorRow, WitnessedLog, WitnessPeer
from clearguard.ledger.witness import (
    SIZE_CONTENT_TYPE,
    ForkDetected,
    LogState,
    cosignature_lines,
    decide,
    parse_add_checkpoint,
    peek_origin,
    request_body,
)

_log = logging.getLogger(__name__)
LOG_PATH = "/ledger"  # where a ClearGuard instance publishes its log (checkpoint, tile/...)
WITNESS_PATH = "/ledger/witness"  # its tlog-witness submission prefix


class WitnessService:
    def __init__(
        self,
        signer: CosignatureSigner,
        *,
        ledger: LedgerService | None = None,
        events: WitnessEvents | None = None,
    ) -> None:
        """`ledger` (our own log) and `events` (the audit trail) receive the alerts a refused fork
        raises; without them a fork is still refused, and only logged."""
        self.signer = signer
        self.ledger = ledger
        self.events = events
        self.timeout_s = 10.0
        self.mirrors_dir = Path("var/mirrors")
        self.partner_ca: Path | None = None
        # Set by whoever knows better how to reach partners (sharing's mutual TLS identity, say).
        self.client_factory: Callable[[], httpx.Client] | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, ledger: LedgerService | None = None, events: WitnessEvents | None = None
    ) -> WitnessService:
        path = settings.ledger_witness_key_file or settings.keys_dir / "ledger-witness.key"
        signer = CosignatureSigner(settings.ledger_witness_name, load_or_create_key(Path(path)))
        service = cls(signer, ledger=ledger, events=events)
        service.timeout_s = settings.ledger_witness_timeout_s
        service.mirrors_dir = settings.var_dir / "mirrors"
        service.partner_ca = settings.ledger_partner_ca_file
        return service

    def client(self) -> httpx.Client:
        """The HTTP client towards partners' witnesses and logs: TLS 1.2 at least, partners'
        servers verified against `partner_ca` (or the system's CAs)."""
        if self.client_factory is not None:
            return self.client_factory()
        verify: ssl.SSLContext | bool = True
        if self.partner_ca is not None:
            verify = client_context(self.partner_ca)
        return httpx.Client(timeout=self.timeout_s, verify=verify)

    def _own_ledger(self) -> LedgerService:
        if self.ledger is None:
            raise LedgerError("the witness service was built without our ledger")
        return self.ledger

    def submit(
        self, factory: sessionmaker[Session], client: httpx.Client, *, report: bool = True
    ) -> list[SubmitResult]:
        """Submits our latest checkpoint to every peer witness now (`ledger witness submit`, `ledger
        publish`); failures are returned, never raised, and recorded unless `report` is False (the
        caller then calls `report_failures` when it is ready for new entries in the log)."""
        results = submit_all(self._own_ledger(), factory, client)
        if report:
            self.report_failures(factory, results)
        return results

    def report_failures(self, factory: sessionmaker[Session], results: Sequence[SubmitResult]) -> None:
        report_failures(factory, self.events, [r for r in results if not r.ok])

    def submitter(
        self, factory: sessionmaker[Session], *, retry_s: float = 30.0, poll_s: float | None = None
    ) -> WitnessSubmitter:
        """The background submitter the server runs beside its integrator."""
        return WitnessSubmitter(
            self._own_ledger(), factory, self.client, events=self.events, retry_s=retry_s, poll_s=poll_s
        )

    def mirrors(self, directory: Path | None = None) -> MirrorService:
        """Mirroring of the partners' logs, trusting our own witness's cosignatures."""
        return MirrorService(
            self._own_ledger(),
            self.signer.verifier(),
            directory or self.mirrors_dir,
            events=self.events,
            cosign=lambda body: self.signer.cosign(body).line(),
        )

    def alerts(self, session: Session, origin: str | None = None) -> list[dict[str, Any]]:
        return [alert_json(row) for row in list_alerts(session, origin)]

    def cosignature_status(self, session: Session) -> list[PeerCosignature]:
        """For each partner witness of our log: the largest size it cosigned, and when the oldest of
        our checkpoints it has not cosigned yet was signed (None: it has cosigned the latest)."""
        status = []
        for peer in session.execute(select(WitnessPeer).order_by(WitnessPeer.name)).scalars():
            behind = session.execute(
                select(func.min(LedgerCheckpointRow.created_at)).where(LedgerCheckpointRow.size > peer.size)
            ).scalar()
            status.append(PeerCosignature(peer.name, int(peer.size), behind))
        return status

    def handle(self, factory: sessionmaker[Session], body: bytes, timestamp: int | None = None) -> str:
        """One add-checkpoint request in a transaction of its own. A fork is refused (the refusal's
        transaction rolls back, so the cosigned size stays) and then alerted in a second one."""
        try:
            with factory() as session, session.begin():
                return self.add_checkpoint(session, body, timestamp)
        except ForkDetected as fork:
            self._alert_fork(factory, fork)
            raise

    def _alert_fork(self, factory: sessionmaker[Session], fork: ForkDetected) -> None:
        state, seen = fork.state, fork.checkpoint
        _log.warning("witness refused a fork of %s: %s", state.origin, fork.detail)
        if self.ledger is None:
            return
        try:
            with factory() as session, session.begin():
                row = session.get(WitnessedLog, state.origin)
                known_note = None if row is None else row.note
                kind = FORK_REFUSED if fork.http_status == 409 else PROOF_REFUSED
                evidence = AlertEvidence(
                    state.origin, kind, fork.detail, state.size, state.root, known_note, seen, fork.note
                )
                record_alert(session, self.ledger, evidence, self.events)
        except Exception:  # the refusal stands whatever happens to its record; never a 500 to the log
            _log.exception("could not record the witness alert for %s", state.origin)

    def register_partner(
        self, session: Session, *, name: str, origin: str, log_vkey: str, witness_vkey: str, url: str
    ) -> None:
        """Sets up everything a partner administration needs, in the caller's transaction: (a) we
        witness its log (cosign its checkpoints at our add-checkpoint endpoint), (b) we submit our
        checkpoints to its witness, (c) we mirror its published tiles. `url` is the partner's public
        URL (its log is at URL/ledger, its witness at URL/ledger/witness). Registering again with the
        same keys updates the URL; another log key for a known origin is refused."""
        if not name or len(name) > 255 or any(ord(c) < 0x20 for c in name):
            raise WitnessInputError("name: 1-255 printable characters", field="name")
        base = partner_base_url(url)
        try:
            log_verifier = ed25519_verifier(log_vkey)
            cosigner = cosignature_verifier(witness_vkey)
        except NoteError as exc:
            raise WitnessInputError(f"identity: {exc}", field="vkey") from exc
        if log_verifier.name != origin:
            raise WitnessInputError(
                f"origin: the log key is named {log_verifier.name!r}, not {origin!r}", field="origin"
            )
        if cosigner.name == self.signer.name:
            raise WitnessInputError(
                f"witness_vkey: the partner's cosigner is named {cosigner.name!r}, as ours is", field="witness_vkey"
            )
        if self.ledger is not None and origin == self.ledger.origin:
            raise WitnessInputError(f"origin: {origin!r} is our own log's origin", field="origin")
        self.add_log(session, origin, log_vkey, base + LOG_PATH)
        add_peer(session, witness_vkey, base + WITNESS_PATH)
        mirror = session.get(MirrorRow, origin)
        if mirror is None:
            session.add(MirrorRow(origin=origin, name=name, url=base + LOG_PATH, size=0, updated_at=utcnow()))
        else:
            mirror.name, mirror.url = name, base + LOG_PATH
        session.flush()

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
class PeerCosignature:
    witness: str
    cosigned_size: int
    uncosigned_since: datetime | None


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


def partner_base_url(url: str) -> str:
    """A partner's public URL, checked: http or https, a host, no credentials, query or fragment."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise WitnessInputError(f"url: not a URL ({exc})", field="url") from exc
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise WitnessInputError("url: must be an http(s) URL with a host", field="url")
    if parsed.userinfo or parsed.query or parsed.fragment:
        raise WitnessInputError("url: no credentials, query or fragment", field="url")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise WitnessInputError("url: the port must be from 1 to 65535", field="url")
    return str(parsed).rstrip("/")


@dataclass(frozen=True, slots=True)
class _PeerView:
    name: str
    vkey: str
    url: str
    size: int


def submit_all(ledger: LedgerService, factory: sessionmaker[Session], client: httpx.Client) -> list[SubmitResult]:
    """Asks every peer witness to cosign our latest checkpoint, with no transaction open while the
    network is in use (a slow or unreachable partner must never hold a lock that lodging waits for).
    Network and protocol failures become results, never exceptions."""
    with factory() as session:
        latest = store.latest_checkpoint(session)
        if latest is None:
            return []
        size, note = int(latest.size), latest.note
        peers = [
            _PeerView(p.name, p.vkey, p.url, int(p.size))
            for p in session.execute(select(WitnessPeer).order_by(WitnessPeer.name)).scalars()
        ]
    results = []
    for peer in peers:
        try:
            results.append(_exchange(ledger, factory, client, peer, size, note))
        except httpx.HTTPError as exc:
            results.append(SubmitResult(peer.name, False, f"unreachable: {type(exc).__name__}: {exc}"))
        except LedgerError as exc:
            results.append(SubmitResult(peer.name, False, str(exc)))
    return results


def _exchange(
    ledger: LedgerService,
    factory: sessionmaker[Session],
    client: httpx.Client,
    peer: _PeerView,
    size: int,
    note: str,
) -> SubmitResult:
    verifier = cosignature_verifier(peer.vkey)
    if peer.size == size and any(
        s.name == verifier.name for s in open_note(note, [ledger.verifier, verifier]).verified
    ):
        return SubmitResult(peer.name, True, f"cosigned size {size}")
    if peer.size > size:  # the witness holds a later tree of ours than we do: a restore, or a fork
        return SubmitResult(peer.name, False, f"witness holds size {peer.size}, beyond our {size}")
    url = peer.url.rstrip("/") + "/add-checkpoint"
    old = peer.size
    signed_note = _log_signature_only(ledger, note)
    for _attempt in range(2):
        with factory() as session:
            proof = ledger.consistency_proof(session, old, size) if 0 < old < size else []
        response = client.post(url, content=request_body(old, proof, signed_note))
        if response.status_code == 409 and response.headers.get("content-type", "").startswith(SIZE_CONTENT_TYPE):
            try:
                witnessed = int(response.text.strip())
            except ValueError:
                return SubmitResult(peer.name, False, "409 with an unreadable size")
            if witnessed > size or witnessed == old:
                return SubmitResult(peer.name, False, f"409: witness holds size {witnessed}")
            old = witnessed
            continue
        if response.status_code != 200:
            return SubmitResult(peer.name, False, f"{response.status_code}: {response.text.strip()[:200]}")
        try:
            opened = open_note(signed_note + response.text, [verifier])
        except NoteError as exc:
            return SubmitResult(peer.name, False, f"cosignature does not verify: {exc}")
        lines = [sig.line() for sig in opened.verified if sig.name == verifier.name]
        if not lines:
            return SubmitResult(peer.name, False, "the witness answered without its cosignature")
        with factory() as session, session.begin():
            row = session.get(LedgerCheckpointRow, size, with_for_update=True)
            if row is not None:
                row.note = row.note + "".join(line for line in lines if line not in row.note)
            stored = session.get(WitnessPeer, peer.name, with_for_update=True)
            if stored is not None and int(stored.size) < size:
                stored.size = size
        return SubmitResult(peer.name, True, f"cosigned size {size}")
    return SubmitResult(peer.name, False, "witness size kept changing")


def report_failures(
    factory: sessionmaker[Session], events: WitnessEvents | None, failures: Sequence[SubmitResult]
) -> None:
    """A failed submission is recorded (a logged warning, and an audit event) and never raised: the
    next integration, or `ledger witness submit`, tries again."""
    for result in failures:
        _log.warning("witness %s did not cosign our checkpoint: %s", result.witness, result.detail)
    if events is None or not failures:
        return
    try:
        with factory() as session, session.begin():
            for result in failures:
                details: dict[str, Any] = {"witness": result.witness, "detail": result.detail[:500]}
                events.witness_event(
                    session, action="ledger.witness.submit", origin=result.witness, outcome="failed", details=details
                )
    except Exception:  # recording a failure must not fail the caller (lodging, publish)
        _log.exception("could not record the failed witness submissions")


class WitnessSubmitter:
    """Submits each new checkpoint to the peer witnesses, in a thread of its own: the integrator
    `notify()`s it after signing, and it also retries every `retry_s` while a witness is failing.
    A failure is reported once when a witness starts failing, not at every batch."""

    def __init__(
        self,
        ledger: LedgerService,
        factory: sessionmaker[Session],
        client_factory: Callable[[], httpx.Client],
        *,
        events: WitnessEvents | None = None,
        retry_s: float = 30.0,
        poll_s: float | None = None,
    ) -> None:
        self._ledger = ledger
        # Checkpoints signed in another process (the CLI, another worker) notify no one here: they
        # go out at the next poll. A poll where every witness already cosigned is one read.
        self._poll = poll_s
        self._factory = factory
        self._client_factory = client_factory
        self._events = events
        self._retry = retry_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing: set[str] = set()
        self.last_results: list[SubmitResult] = []
        self.last_error: Exception | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._wake.set()  # a checkpoint left uncosigned by the last run goes out at once
            self._thread = threading.Thread(target=self._run, name="ledger-witness-submitter", daemon=True)
            self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def run_once(self, client: httpx.Client) -> list[SubmitResult]:
        results = submit_all(self._ledger, self._factory, client)
        newly_failing = [r for r in results if not r.ok and r.witness not in self._failing]
        self._failing = {r.witness for r in results if not r.ok}
        report_failures(self._factory, self._events, newly_failing)
        self.last_results = results
        return results

    def _run(self) -> None:
        client: httpx.Client | None = None
        try:
            while not self._stop.is_set():
                self._wake.wait(self._retry if self._failing or self.last_error else self._poll)
                self._wake.clear()
                if self._stop.is_set():
                    break
                try:
                    client = client or self._client_factory()  # kept: connections to partners are reused
                    self.run_once(client)
                    self.last_error = None
                except Exception as exc:  # a transient database error, an unreadable CA file: retried
                    self.last_error = exc
                    _log.warning("witness submission failed: %s", exc)
        finally:
            if client is not None:
                client.close()
