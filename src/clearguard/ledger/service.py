"""LedgerService: the one way into the ledger's tables.

Writers call `append(session, entry)` inside their own transaction; the entry gets its index there
and commits, or rolls back, with the writer's other rows. Integration runs later, in batches, in its
own transaction: it hashes the new entries into the stored tiles and signs a checkpoint. Entries
that are sequenced but not yet integrated are durable rows, so a crash between the two loses
nothing: the next integration picks them up.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from clearguard.config import Settings
from clearguard.duties import DutyLock
from clearguard.ledger import store
from clearguard.ledger.checkpoint import Checkpoint, SignedCheckpoint, open_checkpoint
from clearguard.ledger.commitment import RecordIds, check_entry
from clearguard.ledger.errors import LedgerError, NotIntegrated, ProofError
from clearguard.ledger.hashing import leaf_hash
from clearguard.ledger.keys import load_or_create_key, load_or_create_record_key
from clearguard.ledger.note import Ed25519Signer, Ed25519Verifier
from clearguard.ledger.proofs import consistency_proof, inclusion_proof
from clearguard.ledger.receipt import Receipt, verify_receipt
from clearguard.ledger.signed_state import SignedState
from clearguard.ledger.tables import LedgerCheckpointRow
from clearguard.ledger.tiles import TILE_WIDTH, TileBuilder, TileRef, encode_bundle, tile_width
from clearguard.ledger.verification import CommitmentSource, Progress, VerifyReport
from clearguard.ledger.verification_log import LastVerification, VerificationLog


class LedgerService:
    def __init__(
        self,
        signer: Ed25519Signer,
        *,
        batch_size: int = 1000,
        sources: Sequence[CommitmentSource] = (),
        entry_check: Callable[[bytes], object] | None = check_entry,
        signed_state: SignedState | None = None,
        record_ids: RecordIds | None = None,
        verification_log: VerificationLog | None = None,
    ) -> None:
        """`entry_check` refuses entries that are not commitments (clearguard/entry/v1), so nothing
        but a kind, an opaque id and a hash can enter; None accepts any bytes (tests, benchmarks).
        `signed_state` (the file beside the key, see signed_state.py) stops a rolled-back database
        from reusing a signed index or size."""
        self.signer = signer
        self.origin = signer.name
        self.batch_size = batch_size
        self._entry_check = entry_check
        self.sources: list[CommitmentSource] = list(sources)
        # Opaque ids for records whose natural id (an MRN) must not be published; a random key when
        # none is given (tests), so ids stay unguessable but only this instance can recompute them.
        self.record_ids = record_ids or RecordIds(secrets.token_bytes(32))
        self._tile_cache = store.TileCache()
        self._known_size = 0
        self.signed_state = signed_state
        self._restore_epoch = 0 if signed_state is None else signed_state.epoch()
        self.signed_count = 0  # checkpoints this process signed (BatchIntegrator's on_checkpoint)
        # Where full verifications are recorded (the self-audit's verification age); None: not kept.
        self.verification_log = verification_log
        # Set while a BatchIntegrator with a duty lock runs here: False when another process signs.
        self._signs_here: Callable[[], bool] | None = None
        self.receipt_wait_s = 10.0  # how long a lodging waits for the signing worker's checkpoint

    def delegate_signing(self, signs_here: Callable[[], bool] | None) -> None:
        """With several workers one signs (the holder of the ledger-signer duty): while `signs_here()`
        is False, `receipt_now` waits for that worker's checkpoint instead of signing one itself."""
        self._signs_here = signs_here

    @classmethod
    def from_settings(cls, settings: Settings) -> LedgerService:
        path = settings.ledger_key_file or settings.keys_dir / "ledger-log.key"
        signer = Ed25519Signer(settings.ledger_origin, load_or_create_key(Path(path)))
        record_ids = RecordIds(load_or_create_record_key(settings.keys_dir / "ledger-record.key"))
        service = cls(
            signer,
            batch_size=settings.ledger_batch_size,
            signed_state=SignedState.from_settings(settings),
            record_ids=record_ids,
            verification_log=VerificationLog(settings.var_dir / "ledger" / "last-verify.json"),
        )
        service.receipt_wait_s = settings.ledger_receipt_wait_s
        return service

    @property
    def strict_entries(self) -> bool:
        return self._entry_check is not None

    @property
    def verifier(self) -> Ed25519Verifier:
        return self.signer.verifier()

    def vkey(self) -> str:
        """The log's verifier key, `name+hex8+base64`, for outside tlog-tiles clients."""
        return self.signer.vkey()

    def add_source(self, source: CommitmentSource) -> None:
        self.sources.append(source)

    # --- writing ---

    def append(self, session: Session, entry: bytes) -> int:
        """Sequences one entry inside the caller's open transaction; returns its index."""
        if self._entry_check is not None:
            self._entry_check(entry)
        first = store.append_entries(session, [entry])
        if self.signed_state is not None:
            self.signed_state.check_index(first)
        return first

    def append_many(self, session: Session, entries: Sequence[bytes]) -> int:
        """Sequences several entries at once; returns the first index (the rest follow in order)."""
        check = self._entry_check
        if check is not None:
            for entry in entries:
                check(entry)
        first = store.append_entries(session, entries)
        if self.signed_state is not None:
            self.signed_state.check_index(first)
        return first

    def integrate(self, session: Session, max_entries: int | None = None) -> SignedCheckpoint | None:
        """Hashes pending entries into the tiles and signs a checkpoint over the new tree, all in the
        caller's transaction; returns None when nothing was pending. Integrators serialise on the
        tree row, so the log never signs two checkpoints for diverging trees."""
        limit = max_entries or self.batch_size
        size, _ = store.lock_tree(session)
        guard = self.signed_state
        if guard is not None:  # reach the last signed size in one step: never re-sign a smaller one
            limit = max(limit, guard.current().size - size)
        builder: TileBuilder | None = None
        total = 0
        while total < limit:
            rows = store.entries_from(session, size, min(limit - total, 10_000))
            # Stop at a gap: an index handed out to a writer that has not committed yet.
            hashes: list[bytes] = []
            for expected, (idx, data) in enumerate(rows, start=size):
                if idx != expected:
                    break
                hashes.append(leaf_hash(data))
            if not hashes:
                break
            if builder is None:
                builder = TileBuilder(size, store.edge_tiles(session, size))
            store.write_tiles(session, builder.extend(hashes))
            size += len(hashes)
            total += len(hashes)
            if len(hashes) < len(rows):
                break
        if builder is None:
            return None
        root = builder.root()
        if guard is not None:
            guard.check_signing(session, size, root)
        store.set_tree(session, size, root)
        checkpoint = Checkpoint(self.origin, size, root)
        note = checkpoint.sign(self.signer)
        if guard is not None:
            guard.record_signed(size, root, note)  # durable before this transaction commits
        store.add_checkpoint(session, size, root, note)
        self.signed_count += 1  # lets the integrator see checkpoints signed on a lodging's path too
        return open_checkpoint(note, [self.verifier], self.origin)

    def integrate_all(self, factory: sessionmaker[Session]) -> SignedCheckpoint | None:
        """Integrates every pending entry, one batch per transaction."""
        last = None
        while True:
            with factory() as session, session.begin():
                signed = self.integrate(session)
            if signed is None:
                return last
            last = signed

    # --- reading ---

    def pending(self, session: Session) -> int:
        return store.sequenced_size(session) - store.tree_state(session)[0]

    def latest(self, session: Session) -> SignedCheckpoint | None:
        row = store.latest_checkpoint(session)
        return None if row is None else open_checkpoint(row.note, [self.verifier], self.origin)

    def latest_note(self, session: Session) -> str | None:
        row = store.latest_checkpoint(session)
        return None if row is None else row.note

    def inclusion_proof(self, session: Session, index: int, size: int) -> list[bytes]:
        self._check_size(session, size)
        return inclusion_proof(index, size, store.node_reader(session, self._cache()))

    def consistency_proof(self, session: Session, size1: int, size2: int) -> list[bytes]:
        self._check_size(session, size2)
        return consistency_proof(size1, size2, store.node_reader(session, self._cache()))

    def _cache(self) -> store.TileCache:
        # A restore (its epoch in the signed-state file) may have replaced the tree under us: the
        # tiles and sizes this process saw may no longer be the log's.
        if self.signed_state is not None and self.signed_state.epoch() != self._restore_epoch:
            self._restore_epoch = self.signed_state.epoch()
            self._tile_cache = store.TileCache()
            self._known_size = 0
        return self._tile_cache

    def _check_size(self, session: Session, size: int) -> None:
        # The integrated size only grows, so a size this process has seen integrated stays valid.
        self._cache()
        if size <= self._known_size:
            return
        integrated, _ = store.tree_state(session)
        self._known_size = max(self._known_size, integrated)
        if size > integrated:
            raise ProofError(f"no tree of size {size}: {integrated} entries are integrated")

    def receipt(self, session: Session, index: int) -> Receipt:
        """Index, latest signed checkpoint and inclusion proof of one entry."""
        row = store.latest_checkpoint(session)
        if row is None or index >= row.size:
            raise NotIntegrated(f"entry {index} is not yet in a signed checkpoint")
        data = store.entry(session, index)
        if data is None:
            raise LedgerError(f"entry {index} is missing from the ledger")
        proof = inclusion_proof(index, row.size, store.node_reader(session, self._cache()))
        return Receipt(index, data, row.note, tuple(proof))

    def receipt_now(self, factory: sessionmaker[Session], index: int) -> Receipt:
        """For a writer that has committed and wants its receipt at once (lodging): integrates what
        is pending (a no-op if a background integrator got there first), then builds the receipt."""
        with factory() as session:
            row = store.latest_checkpoint(session)
            if row is not None and index < row.size:
                return self.receipt(session, index)
        signs_here = self._signs_here
        if signs_here is not None and not signs_here():
            return self._await_receipt(factory, index)
        self.integrate_all(factory)
        with factory() as session:
            return self.receipt(session, index)

    def _await_receipt(self, factory: sessionmaker[Session], index: int) -> Receipt:
        # The signer integrates every batch interval (200 ms by default), or takes over from a dead
        # holder within its retry period: well inside the wait.
        deadline = time.monotonic() + self.receipt_wait_s
        while True:
            with factory() as session:
                row = store.latest_checkpoint(session)
                if row is not None and index < row.size:
                    return self.receipt(session, index)
            if time.monotonic() >= deadline:
                raise NotIntegrated(
                    f"entry {index} is not yet in a signed checkpoint: the signing worker has not integrated it"
                    f" within {self.receipt_wait_s:g} s; its receipt_url gives it once signed"
                )
            time.sleep(0.02)

    def check_receipt(self, receipt: Receipt) -> SignedCheckpoint:
        return verify_receipt(receipt, [self.verifier], self.origin)

    def entry(self, session: Session, index: int) -> bytes | None:
        return store.entry(session, index)

    def verify(self, session: Session, progress: Progress | None = None) -> VerifyReport:
        """Recomputes the whole log; the report names the first divergent entry, if any."""
        from clearguard.ledger.verify_db import verify_database  # the verifier builds on this class

        store.snapshot(session)
        return verify_database(self, session, progress)

    def verify_recorded(self, session: Session, progress: Progress | None = None) -> tuple[VerifyReport, list[str]]:
        """What `ledger verify` does: the whole log, then what the signed-state file beside the key
        knows (ranges lost by an accepted restore, a database behind the last signed size); the result
        is recorded for the self-audit. (report, notes on accepted losses)."""
        from clearguard.ledger.continuity import review  # builds on this class

        report = self.verify(session, progress)
        notes: list[str] = []
        if self.signed_state is not None:
            continuity = review(self.signed_state, session)
            report = continuity.merge(report)
            notes = list(continuity.notes)
        if self.verification_log is not None:
            self.verification_log.record(report)
        return report, notes

    def history(self, session: Session) -> tuple[int, datetime | None]:
        """(integrated size, when the first checkpoint was signed; None: none yet)."""
        size, _root = store.tree_state(session)
        first = session.execute(select(func.min(LedgerCheckpointRow.created_at))).scalar()
        return size, first

    def last_verification(self) -> LastVerification | None:
        return None if self.verification_log is None else self.verification_log.last()

    # --- tiles, as served and published ---

    def read_tile(self, session: Session, ref: TileRef) -> bytes | None:
        """The bytes of a tile or entry bundle of the latest tree; None if it does not exist. A
        partial tile narrower than the stored one is its prefix, as tlog-tiles allows."""
        size, _ = store.tree_state(session)
        level = 0 if ref.level is None else ref.level
        available = tile_width(size, level, ref.index)
        if available == 0 or ref.width > available:
            return None
        if ref.level is None:
            start = ref.index * TILE_WIDTH
            rows = store.entries_range(session, start, start + ref.width)
            if len(rows) != ref.width:
                raise LedgerError(f"entry bundle {ref.index}: entries missing from the ledger")
            return encode_bundle(data for _, data in rows)
        data = store.read_tiles(session, [(ref.level, ref.index)]).get((ref.level, ref.index))
        if data is None or len(data) < ref.width * 32:
            raise LedgerError(f"tile {ref.path()}: missing from the ledger")
        return data[: ref.width * 32]


class BatchIntegrator:
    """Integrates every `interval_ms`, or sooner when `notify()` reports a full batch pending.

    Runs in a daemon thread of the API process. With a `duty` lock (the server's case) it integrates
    and signs only while this process holds the lock, so that of several workers one signs: the others
    try to take the lock every `duty_retry_s`, so one takes over when the holder dies, and integrates
    what every worker sequenced. `on_duty(True)` and `on_duty(False)` are called (in this thread) as it
    takes and loses the duty: the witness submitter runs beside the signer. Integration also serialises
    on the tree row (FOR UPDATE), which keeps one tree even when a CLI run signs beside the server.
    `on_checkpoint` is called (in this thread, after the commit) when a batch signed a new checkpoint:
    the witness submitter's `notify`, which must return at once, so that a slow partner never delays
    signing."""

    def __init__(
        self,
        service: LedgerService,
        factory: sessionmaker[Session],
        interval_ms: int = 200,
        *,
        on_checkpoint: Callable[[], None] | None = None,
        duty: DutyLock | None = None,
        duty_retry_s: float = 1.0,
        on_duty: Callable[[bool], None] | None = None,
    ) -> None:
        self._service = service
        self._factory = factory
        self._interval = interval_ms / 1000
        self._on_checkpoint = on_checkpoint
        self._duty = duty
        self._duty_retry = duty_retry_s
        self._on_duty = on_duty
        self._next_try = 0.0
        self._holding = duty is None
        self._seen = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: Exception | None = None

    @property
    def signs(self) -> bool:
        """Whether this process signs the ledger now (always, without a duty lock)."""
        return self._holding

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            if self._duty is not None:
                self._service.delegate_signing(lambda: self._holding)
            self._thread = threading.Thread(target=self._run, name="ledger-integrator", daemon=True)
            self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._wake.wait(self._interval)
                self._wake.clear()
                if self._stop.is_set():
                    break
                try:
                    if not self._keep_duty():
                        continue
                    self._service.integrate_all(self._factory)
                    self.last_error = None
                    # Also after checkpoints that a lodging's receipt_now signed on the request path.
                    if self._service.signed_count != self._seen and self._on_checkpoint is not None:
                        self._seen = self._service.signed_count
                        self._on_checkpoint()
                except Exception as exc:  # keep integrating after a transient database error
                    self.last_error = exc
        finally:
            if self._duty is not None:
                self._service.delegate_signing(None)
                self._drop_duty()

    def _keep_duty(self) -> bool:
        """Whether this process holds the duty now: checked every round (a lost connection loses the
        lock), taken when free, at most every `duty_retry_s`."""
        duty = self._duty
        if duty is None:
            return True
        if self._holding:
            if duty.held:
                return True
            self._holding = False
            self._duty_changed(False)
        now = time.monotonic()
        if now < self._next_try:
            return False
        self._next_try = now + self._duty_retry
        if not duty.try_acquire():
            return False
        self._holding = True
        self._duty_changed(True)
        return True

    def _drop_duty(self) -> None:
        was = self._holding
        self._holding = False
        if self._duty is not None:
            self._duty.release()
        if was:
            self._duty_changed(False)

    def _duty_changed(self, held: bool) -> None:
        if self._on_duty is not None:
            self._on_duty(held)
