"""Backup create / verify / restore: snapshot -> chunked AES-256-GCM file; file -> verify all -> apply.

The backup key is its own 32-byte secret under var/keys (wrapped by the key provider's auxiliary KEK),
not a data or KEK key: a backup file alone, or the database alone, reveals nothing. Backups hold the
wrapped data keys but never the party shares (see clearguard.crypto.shares), so a party shredded
after a backup was taken stays erased when that backup is restored.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clearguard.backup import format as fmt
from clearguard.backup import snapshot
from clearguard.backup.errors import BackupCorrupt, BackupError
from clearguard.db import is_sqlite


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    kind: str
    created: datetime
    plaintext_bytes: int
    file_bytes: int


def create_backup(
    database_url: str, backup_key: bytes, out: Path, *, chunk_size: int = fmt.DEFAULT_CHUNK
) -> BackupInfo:
    """Write an encrypted backup of the database to `out` (created 0600; refused if it exists)."""
    if out.exists():
        raise BackupError(f"{out} already exists: choose a new file name")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
    kind = fmt.KIND_SQLITE if is_sqlite(database_url) else fmt.KIND_PG_DUMP
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            writer = fmt.BackupWriter(handle, backup_key, kind, chunk_size=chunk_size)
            if kind == fmt.KIND_SQLITE:
                writer.write(snapshot.sqlite_snapshot(database_url))
            else:
                for chunk in snapshot.pg_dump(database_url):
                    writer.write(chunk)
            writer.close()
            handle.flush()
            os.fsync(handle.fileno())
        # Only a complete file ever gets the real name.
        os.link(tmp, out)
    except FileExistsError:
        raise BackupError(f"{out} already exists: choose a new file name") from None
    finally:
        tmp.unlink(missing_ok=True)
    return BackupInfo(
        out,
        fmt.KINDS[kind],
        datetime.fromtimestamp(writer.header.created, UTC),
        writer.plaintext_bytes,
        out.stat().st_size,
    )


def verify_backup(backup_key: bytes, path: Path) -> BackupInfo:
    """Authenticate every chunk of `path` without writing anything; BackupCorrupt otherwise."""
    with open_backup(path) as handle:
        header, chunks = fmt.read_backup(handle, backup_key)
        total = sum(len(chunk) for chunk in chunks)
    return BackupInfo(
        path, fmt.KINDS[header.kind], datetime.fromtimestamp(header.created, UTC), total, path.stat().st_size
    )


def restore_backup(
    database_url: str, backup_key: bytes, path: Path, *, after: Callable[[], object] | None = None
) -> BackupInfo:
    """Verify the whole file, then replace the database's content with it; `after` runs once applied
    (the CLI passes CryptoService.reconcile, which marks keys shredded since the backup as such)."""
    info = verify_backup(backup_key, path)
    expected = "sqlite" if is_sqlite(database_url) else "pg_dump"
    if info.kind != expected:
        raise BackupError(f"{path} is a {info.kind} backup but the database is {expected}")
    if expected == "sqlite":
        # Read into memory while verifying again: the file could have changed since the first pass.
        with open_backup(path) as handle:
            _header, chunks = fmt.read_backup(handle, backup_key)
            image = b"".join(chunks)
        snapshot.sqlite_apply(database_url, image)
    else:
        snapshot.pg_restore(database_url, _verified_stream(path, backup_key))
    if after is not None:
        after()
    return info


def _verified_stream(path: Path, backup_key: bytes) -> Iterator[bytes]:
    # Second pass for pg_restore: still verified chunk by chunk; a failure kills pg_restore, whose
    # single transaction then rolls back.
    with open_backup(path) as handle:
        _header, chunks = fmt.read_backup(handle, backup_key)
        yield from chunks


def open_backup(path: Path) -> io.BufferedReader:
    try:
        return open(path, "rb")  # the caller closes it in a with-block
    except FileNotFoundError:
        raise BackupError(f"backup file {path} does not exist") from None
    except IsADirectoryError:
        raise BackupCorrupt(f"{path} is a directory, not a backup") from None
