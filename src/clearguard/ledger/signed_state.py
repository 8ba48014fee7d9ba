"""The last signed tree size and root, kept outside the database: a signed size is never reused.

The database and its backups can be rolled back; what the log has signed cannot, since its
checkpoints and receipts are out in the world. So the size, root and note of the latest checkpoint
live in a small file beside the log's signing key (var/keys, which data backups never hold, as the
party key shares), written durably (write, fsync, rename, fsync the directory) before the
transaction that signs commits. Before signing, integration checks that the new tree extends that
root (the tree at the last signed size has the last signed root), so a rolled-back database can
never sign a size twice with two roots, nor hand out an index a receipt already names.

The file also carries the restore epoch, bumped by each `clearguard backup restore`: a process that
sees it change drops its cached tiles, which may belong to the tree from before the restore. And it
keeps the ranges of entries lost when an operator restored an older backup with `--accept-loss`.

Write-ahead means the file may hold a size whose transaction then failed to commit; its entries are
committed already (integration reads only committed rows), so the next integration reaches it with
the same root. Several processes update the file under an exclusive flock.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy.orm import Session

from clearguard.config import Settings
from clearguard.ledger import store
from clearguard.ledger.errors import LedgerError
from clearguard.ledger.hashing import EMPTY_ROOT, HASH_SIZE, fold_right
from clearguard.ledger.proofs import range_nodes

FORMAT: Final = "clearguard/ledger-signed-state/v1"
FILE_NAME: Final = "ledger-signed-state.json"


class LogRolledBack(LedgerError):
    """The database is behind, or beside, what the log has already signed."""

    slug = "ledger-rolled-back"
    title = "Ledger database is behind its last signed checkpoint"
    status = 503
    exit_code = 1


@dataclass(frozen=True, slots=True)
class LostRange:
    """Entries [start, end) were signed, then lost when restore `epoch` brought back an older backup."""

    start: int
    end: int
    epoch: int
    at: str  # ISO 8601 UTC

    def __str__(self) -> str:
        return f"entries {self.start}..{self.end - 1} lost by restore {self.epoch} ({self.at}, accepted)"


@dataclass(frozen=True, slots=True)
class SignedRecord:
    size: int = 0
    root: bytes = EMPTY_ROOT
    note: str = ""
    epoch: int = 0
    # After `restore --accept-loss`: the next signature starts a tree that does not pass through the
    # last signed root (the lost entries were replaced by markers); it must still be a larger size.
    accepted_loss: bool = False
    losses: tuple[LostRange, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "size": self.size,
            "root": base64.b64encode(self.root).decode(),
            "note": self.note,
            "restore_epoch": self.epoch,
            "accepted_loss": self.accepted_loss,
            "losses": [{"start": r.start, "end": r.end, "epoch": r.epoch, "at": r.at} for r in self.losses],
        }


def _parse(path: Path, raw: bytes) -> SignedRecord:
    try:
        data = json.loads(raw)
        if data["format"] != FORMAT:
            raise ValueError("format")
        root = base64.b64decode(data["root"], validate=True)
        record = SignedRecord(
            size=int(data["size"]),
            root=root,
            note=str(data["note"]),
            epoch=int(data["restore_epoch"]),
            accepted_loss=bool(data["accepted_loss"]),
            losses=tuple(
                LostRange(int(r["start"]), int(r["end"]), int(r["epoch"]), str(r["at"])) for r in data["losses"]
            ),
        )
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise LedgerError(f"{path}: not a ledger signed-state file ({type(exc).__name__})") from None
    if len(record.root) != HASH_SIZE or record.size < 0:
        raise LedgerError(f"{path}: not a ledger signed-state file (bad size or root)")
    return record


def root_at(session: Session, size: int) -> bytes:
    """The stored tree's root at an earlier size, from O(log n) tile nodes (no cache: the check
    must see the database as it is)."""
    return bytes(fold_right(store.node_reader(session)(range_nodes(0, size))))


class SignedState:
    """The file and its in-process copy, re-read whenever another process replaced it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_path = path.with_name(path.name + ".lock")
        self._seen: tuple[int, int, int] | None = None
        self._record = SignedRecord()

    @classmethod
    def from_settings(cls, settings: Settings) -> SignedState:
        key = settings.ledger_key_file or settings.keys_dir / "ledger-log.key"
        return cls(Path(key).parent / FILE_NAME)

    def current(self) -> SignedRecord:
        """The record as on disk now: one stat per call, a read only when the file changed."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._seen, self._record = None, SignedRecord()
            return self._record
        seen = (st.st_ino, st.st_mtime_ns, st.st_size)
        if seen != self._seen:
            self._record = _parse(self.path, self.path.read_bytes())
            self._seen = seen
        return self._record

    def epoch(self) -> int:
        return self.current().epoch

    def _way_out(self) -> str:
        # An operator who deleted the database to start afresh must not be sent to a backup that does
        # not exist, nor told to delete this file alone: the same key signing a second history is a fork.
        return (
            "restore the database from its latest backup with `clearguard backup restore FILE` (with "
            "--accept-loss when that backup is older than the last signed checkpoint); or, to start a "
            f"new log on purpose, move the log's signing key (ledger-log.key) and {self.path.name} out of "
            f"{self.path.parent} first: a new log has a new key, so no witness mistakes it for a fork"
        )

    # --- the checks integration and sequencing make ---

    def check_index(self, first: int) -> None:
        """Refuses to hand out an index the log has signed already (the database was rolled back)."""
        last = self.current()
        if first < last.size:
            raise LogRolledBack(
                f"ledger: index {first} was already signed (the log signed size {last.size}); the database "
                f"was rolled back or replaced: {self._way_out()}"
            )

    def check_signing(self, session: Session, size: int, root: bytes) -> None:
        """Refuses a checkpoint that would sign a size twice with two roots, or leave the last signed
        root behind; the new tree's tiles are written in `session` already."""
        last = self.current()
        if size < last.size:
            raise LogRolledBack(
                f"ledger: the database holds {size} entries but the log signed size {last.size} already; "
                f"it was rolled back or replaced: {self._way_out()}"
            )
        if size == last.size:
            if root != last.root:
                raise LogRolledBack(f"ledger: size {size} was signed with another root; refusing to sign it twice")
        elif last.size and not last.accepted_loss and root_at(session, last.size) != last.root:
            raise LogRolledBack(
                f"ledger: the database's tree does not extend the signed checkpoint of size {last.size}"
            )

    # --- updates, each durable before it returns ---

    def record_signed(self, size: int, root: bytes, note: str) -> None:
        with self._locked() as last:
            if size < last.size or (size == last.size and root != last.root):
                raise LogRolledBack(f"ledger: refusing to record size {size} after size {last.size}")
            if size > last.size or last.accepted_loss:
                self._write(replace(last, size=size, root=root, note=note, accepted_loss=False))

    def adopt(self, size: int, root: bytes, note: str) -> None:
        """Records a checkpoint found in the database that the file does not know yet (a crash
        between commit and write, or a log older than this file); never moves the file back."""
        with self._locked() as last:
            if size > last.size:
                self._write(replace(last, size=size, root=root, note=note))

    def record_restore(self, lost_from: int | None) -> SignedRecord:
        """A restore: bumps the epoch; with `lost_from`, records entries [lost_from, last size) as
        lost and lets the next signature leave the last root (it still signs a larger size)."""
        with self._locked() as last:
            epoch = last.epoch + 1
            if lost_from is None or lost_from >= last.size:
                updated = replace(last, epoch=epoch)
            else:
                at = datetime.now(UTC).replace(microsecond=0).isoformat()
                loss = LostRange(lost_from, last.size, epoch, at)
                updated = replace(last, epoch=epoch, accepted_loss=True, losses=(*last.losses, loss))
            self._write(updated)
            return updated

    @contextmanager
    def _locked(self) -> Iterator[SignedRecord]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._seen = None  # read afresh under the lock
            yield self.current()
        finally:
            os.close(fd)  # closing releases the lock

    def _write(self, record: SignedRecord) -> None:
        data = (json.dumps(record.to_json(), indent=1) + "\n").encode()
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself must survive a crash
        finally:
            os.close(directory)
        self._seen = None
        self.current()
