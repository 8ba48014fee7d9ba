"""The log across a restore: refuse to lose signed entries silently, and continue without reusing a
signed size when the operator accepts the loss.

A backup taken before the last signed checkpoint holds fewer entries than the log has signed. Put
back as it is, the next lodging would get the index (and the tree the size) of an entry signed after
the backup, with another root: two receipts for one index, both valid. So `backup restore` asks
`plan()` first and refuses such a backup unless the operator accepts the loss; `resume()` then
fills the lost indices with markers (`ledger.lost-by-restore`, one per lost index, all alike),
appends a `ledger.restore` entry committing to the restore, and signs one checkpoint past the last
signed size. Every size the log ever signed keeps one root; consistency from a checkpoint before the
backup to the new one holds, from one inside the lost range it does not, which is what a witness
and `ledger verify` report, the latter naming the lost range from the signed-state file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from sqlalchemy.orm import Session, sessionmaker

from clearguard.ledger import store
from clearguard.ledger.commitment import LedgerEntry, decode_entry, encode_entry
from clearguard.ledger.errors import LedgerError
from clearguard.ledger.service import LedgerService
from clearguard.ledger.signed_state import LostRange, SignedRecord, SignedState, root_at
from clearguard.ledger.verification import Problem, VerifyReport

LOST_KIND: Final = "ledger.lost-by-restore"
RESTORE_KIND: Final = "ledger.restore"
SEQUENCE_TABLE: Final = ("ledger_sequence", "next_index")
"""Where a snapshot keeps the next index to hand out: what backup reads from a backup file."""
_CHUNK: Final = 10_000


def lost_marker(epoch: int, start: int, end: int) -> bytes:
    digest = hashlib.sha256(f"clearguard/lost-by-restore/v1\x00{epoch}:{start}:{end}".encode()).digest()
    return encode_entry(LOST_KIND, f"restore-{epoch}", digest)


def _restore_entry(epoch: int, start: int, end: int, backup_created: str) -> bytes:
    body = json.dumps({"epoch": epoch, "lost": [start, end], "backup_created": backup_created}, sort_keys=True)
    return encode_entry(RESTORE_KIND, f"restore-{epoch}", hashlib.sha256(body.encode()).digest())


@dataclass(frozen=True, slots=True)
class RestorePlan:
    last_signed: int
    backup_sequenced: int

    @property
    def lost(self) -> tuple[int, int] | None:
        """[start, end) of signed entries the backup does not hold, or None."""
        if self.backup_sequenced >= self.last_signed:
            return None
        return self.backup_sequenced, self.last_signed


@dataclass(frozen=True, slots=True)
class Resumed:
    epoch: int
    lost: tuple[int, int] | None
    signed_size: int | None


class LogContinuity:
    def __init__(self, ledger: LedgerService, factory: sessionmaker[Session]) -> None:
        if ledger.signed_state is None:
            raise LedgerError("ledger: no signed-state file configured (LedgerService.from_settings sets one)")
        self.ledger = ledger
        self.state: SignedState = ledger.signed_state
        self._factory = factory
        self.sequence_location = SEQUENCE_TABLE

    def last_signed(self) -> SignedRecord:
        """The last signed checkpoint, first adopting the database's own latest one if the file lags
        (a crash between commit and write, or a log that predates the file)."""
        with self._factory() as session:
            row = store.latest_checkpoint(session)
        if row is not None:
            self.state.adopt(int(row.size), bytes(row.root), row.note)
        return self.state.current()

    def plan(self, backup_sequenced: int) -> RestorePlan:
        return RestorePlan(self.last_signed().size, backup_sequenced)

    def resume(
        self,
        plan: RestorePlan,
        *,
        backup_created: str,
        record: Callable[[Session, str, tuple[int, int]], object] | None = None,
    ) -> Resumed:
        """After the backup is applied: bump the restore epoch (running servers drop their tile
        caches), and if entries were lost, continue the log past the last signed size in one
        transaction: markers for the lost indices, the restore entry, `record(session, record_id,
        lost)` (the caller's audit event), one checkpoint."""
        lost = plan.lost
        state = self.state.record_restore(None if lost is None else lost[0])
        if lost is None:
            return Resumed(state.epoch, None, None)
        start, end = lost
        with self._factory() as session, session.begin():
            store.lock_tree(session)
            sequenced = store.sequenced_size(session)
            marker = lost_marker(state.epoch, start, end)
            for first in range(sequenced, end, _CHUNK):
                store.append_entries(session, [marker] * min(_CHUNK, end - first))
            store.append_entries(session, [_restore_entry(state.epoch, start, end, backup_created)])
            if record is not None:
                record(session, f"restore-{state.epoch}", lost)
            integrated, _ = store.tree_state(session)
            signed = self.ledger.integrate(session, max_entries=store.sequenced_size(session) - integrated)
        return Resumed(state.epoch, lost, None if signed is None else signed.checkpoint.size)


@dataclass(frozen=True, slots=True)
class ContinuityReview:
    notes: tuple[str, ...]
    problems: tuple[Problem, ...]

    def merge(self, report: VerifyReport) -> VerifyReport:
        problems = sorted((*report.problems, *self.problems), key=lambda p: (p.index is None, p.index or 0))
        return VerifyReport(report.size, report.checkpoints, tuple(problems), report.disposed)


def _kind_at(session: Session, index: int) -> LedgerEntry | None:
    data = store.entry(session, index)
    if data is None:
        return None
    try:
        return decode_entry(data)
    except LedgerError:
        return None


def review(state: SignedState, session: Session) -> ContinuityReview:
    """What `ledger verify` adds from outside the database: the ranges lost by restore (named, not
    tampering, when markers hold them), and a database behind or beside the last signed checkpoint."""
    last = state.current()
    notes: list[str] = []
    problems: list[Problem] = []
    for loss in last.losses:
        ends = (_kind_at(session, loss.start), _kind_at(session, loss.end - 1))
        if all(e is not None and e.kind == LOST_KIND for e in ends):
            notes.append(str(loss))
        else:
            problems.append(Problem(loss.start, f"{_range(loss)} were recorded lost by restore, but are not marked so"))
    integrated, _ = store.tree_state(session)
    if last.size and integrated < last.size <= store.sequenced_size(session):
        # Written ahead of a commit that failed: the entries are there, the next integration signs
        # the same root again (and checks it does).
        notes.append(
            f"size {last.size} was signed but its checkpoint did not commit: run `clearguard ledger integrate`"
        )
    elif last.size and integrated < last.size:
        problems.append(
            Problem(
                integrated,
                f"the log signed size {last.size} ({state.path.name}) but the database holds {integrated} "
                "integrated entries: rolled back",
            )
        )
    elif last.size and not last.accepted_loss and root_at(session, last.size) != last.root:
        problems.append(Problem(None, f"the database's tree at size {last.size} differs from the signed one"))
    return ContinuityReview(tuple(notes), tuple(problems))


def _range(loss: LostRange) -> str:
    return f"entries {loss.start}..{loss.end - 1}"
