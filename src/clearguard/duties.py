"""Background duties (ledger signing, the witness submitter, the daily self-audit) run in one process at
a time, however many API workers or hosts serve the same database.

`DutyLock` is that one-at-a-time guarantee. On PostgreSQL it is a session-level advisory lock held on a
connection of its own, kept open while held: if the process dies or its connection drops, the server
frees the lock and another process can take it; `held` notices the loss. On SQLite (which serves one
host) it is an exclusive `flock` on `var_dir/locks/<name>.lock`, freed by the kernel when the holder
exits, however it exits. Neither waits: a process that does not get the lock tries again later.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import threading
from pathlib import Path
from typing import IO

import sqlalchemy
from sqlalchemy import text

from clearguard.errors import ConfigurationError, InputError

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_KEY_PREFIX = b"clearguard.duty:"


def advisory_key(name: str, schema: str = "") -> int:
    """The lock's signed 64-bit key: a stable hash of its name and of the schema that holds the instance's
    tables (unlike PostgreSQL's hashtext, the same in every server version). Advisory locks span a whole
    database, so two instances in two schemas of one database would otherwise exclude each other."""
    digest = hashlib.sha256(_KEY_PREFIX + schema.encode() + b"/" + name.encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class DutyLock:
    """Held by at most one process at a time for `name`, across workers and hosts sharing the database."""

    def __init__(self, engine: sqlalchemy.Engine, name: str, *, var_dir: Path) -> None:
        if not _NAME.fullmatch(name):
            raise InputError(f"duty lock name {name!r}: lowercase letters, digits, '_', '.', '-', at most 64")
        dialect = engine.dialect.name
        if dialect not in ("postgresql", "sqlite"):
            raise ConfigurationError(f"duty locks need PostgreSQL or SQLite, not {dialect}")
        self.name = name
        self._engine = engine
        self._postgres = dialect == "postgresql"
        self._path = var_dir / "locks" / f"{name}.lock"
        self._key: int | None = None  # known once connected: it depends on the current schema
        self._connection: sqlalchemy.Connection | None = None
        self._file: IO[bytes] | None = None
        # One DutyLock may be polled by a background thread and released by the lifespan's shutdown.
        self._mutex = threading.Lock()

    def try_acquire(self) -> bool:
        """Non-blocking: True when this process now holds the lock (also when it already held it)."""
        with self._mutex:
            if self._held_locked():
                return True
            return self._acquire_postgres() if self._postgres else self._acquire_file()

    def release(self) -> None:
        with self._mutex:
            if self._postgres:
                self._release_postgres()
            else:
                self._release_file()

    @property
    def key(self) -> int | None:
        """PostgreSQL: the advisory lock's key, once a first attempt has connected; None on SQLite."""
        return self._key

    @property
    def held(self) -> bool:
        """Whether this process holds the lock now. On PostgreSQL this asks the server, so a lost
        connection (and with it the lock) reads as not held."""
        with self._mutex:
            return self._held_locked()

    def __enter__(self) -> DutyLock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()

    # -- PostgreSQL ---------------------------------------------------------------------------------

    def _acquire_postgres(self) -> bool:
        try:
            # Autocommit: the connection sits idle between checks, never idle in a transaction.
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except sqlalchemy.exc.DBAPIError:
            return False
        try:
            if self._key is None:
                schema = str(connection.execute(text("SELECT current_schema()")).scalar() or "")
                self._key = advisory_key(self.name, schema)
            got = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}).scalar())
        except sqlalchemy.exc.DBAPIError:
            _close_quietly(connection)
            return False
        if not got:
            connection.close()
            return False
        self._connection = connection
        return True

    def _held_postgres(self) -> bool:
        connection, key = self._connection, self._key
        if connection is None or key is None:
            return False
        unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
        try:
            # A bigint advisory lock shows in pg_locks as classid (high half), objid (low half), objsubid 1.
            still = connection.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND pid = pg_backend_pid() AND objsubid = 1"
                    " AND classid::bigint = :high AND objid::bigint = :low)"
                ),
                {"high": unsigned >> 32, "low": unsigned & 0xFFFF_FFFF},
            ).scalar()
        except sqlalchemy.exc.DBAPIError:
            still = False
        if not still:
            self._connection = None
            _close_quietly(connection, invalidate=True)
        return bool(still)

    def _release_postgres(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
        except sqlalchemy.exc.DBAPIError:
            # The connection is gone, and the server freed the lock with it.
            _close_quietly(connection, invalidate=True)
            return
        connection.close()

    # -- SQLite: one host, a file lock --------------------------------------------------------------

    def _acquire_file(self) -> bool:
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        handle = os.fdopen(descriptor, "r+b")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        except BaseException:
            handle.close()
            raise
        self._file = handle
        return True

    def _release_file(self) -> None:
        handle, self._file = self._file, None
        if handle is None:
            return
        with contextlib.suppress(OSError):
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()

    def _held_locked(self) -> bool:
        if self._postgres:
            return self._held_postgres()
        return self._file is not None


def _close_quietly(connection: sqlalchemy.Connection, *, invalidate: bool = False) -> None:
    with contextlib.suppress(Exception):
        if invalidate:
            connection.invalidate()
        connection.close()
