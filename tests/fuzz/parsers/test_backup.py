"""The encrypted backup format, given odd bytes: BackupCorrupt (a BackupError), never another
exception, and nothing but the sealed plaintext ever comes out."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from hypothesis import given

from clearguard.backup import format as fmt
from clearguard.backup.contents import backup_integer
from clearguard.backup.errors import BackupError
from clearguard.backup.service import verify_backup
from tests.fuzz.odd import FUZZ, odd_bytes, refused_or_read

KEY = bytes(range(32))
PLAIN = b"ClearGuard backup payload " * 20


def seal(payload: bytes, kind: int = fmt.KIND_SQLITE) -> bytes:
    out = io.BytesIO()
    writer = fmt.BackupWriter(out, KEY, kind, chunk_size=128)
    writer.write(payload)
    writer.close()
    return out.getvalue()


SEALED = [seal(PLAIN), seal(b""), seal(PLAIN, fmt.KIND_PG_DUMP)]


def _unseal(raw: bytes) -> bytes:
    _header, chunks = fmt.read_backup(io.BytesIO(raw), KEY)
    return b"".join(chunks)


@FUZZ
@given(raw=odd_bytes(SEALED))
def test_damaged_backups_are_refused(raw: bytes) -> None:
    plain = refused_or_read(lambda: _unseal(raw), BackupError)
    if plain is not None:
        assert raw in SEALED and plain in (PLAIN, b"")  # only an intact file opens
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "backup.cgb"
        path.write_bytes(raw)
        refused_or_read(lambda: verify_backup(KEY, path), BackupError)


@FUZZ
@given(image=odd_bytes([PLAIN]))
def test_an_authentic_backup_of_garbage_is_refused_by_its_reader(image: bytes) -> None:
    """Sealed with the right key, but not an SQLite image: the restore's pre-check says so."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "backup.cgb"
        path.write_bytes(seal(image))
        refused_or_read(lambda: backup_integer(KEY, path, "ledger_state", "next_index"), BackupError)


def test_an_authentic_empty_image_is_backup_corrupt_not_memory_error() -> None:
    """Defect found: sqlite3's deserialize raised MemoryError on an empty image, in the restore's
    pre-check and in the restore itself; the target database is left untouched."""
    from clearguard.backup.errors import BackupCorrupt
    from clearguard.backup.snapshot import sqlite_apply

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "backup.cgb"
        path.write_bytes(seal(b""))
        assert refused_or_read(lambda: backup_integer(KEY, path, "ledger_state", "next_index"), BackupCorrupt) is None
        target = Path(folder) / "db.sqlite"
        assert refused_or_read(lambda: sqlite_apply(f"sqlite:///{target}", b""), BackupCorrupt) is None
        assert not target.exists()
