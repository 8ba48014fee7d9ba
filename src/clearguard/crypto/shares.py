"""Party key shares: the half of each field key that lives outside the database and its backups.

A field key is HKDF(unwrapped data key, salt = share). The wrapped data key sits in the database (and so
in every backup of it); the share sits here, in a store of its own that data backups never include.
Shredding a party deletes its share, so every copy of its wrapped data key, in the live database or in
any backup, no longer yields a key: the party's fields read as erased everywhere.

The store is keyed by the data key's random uid, never by party identifiers, so it reveals nothing about
who the parties are. On SQLite it runs with secure_delete (freed pages are zeroed) in WAL mode with
synchronous=FULL (one fsync per commit: a share must be durable before the data key row that needs it
commits); after a delete the WAL is checkpointed and truncated so that the destroyed share does not
linger in it.

New keys take their share from a small pool of shares already durable in the store (`reserve`): the
pool is refilled with one commit for many keys (64, doubling up to 1024), ahead of need by a thread
of its own once it runs low, so that no lodging waits for the share store's fsync; unused ones are
deleted on close. A share stored this way and never used (the process died, or the key's transaction
rolled back) is an orphan, as harmless as the orphans of a transaction that fails after storing its
shares: it names no data key.

What the filesystem or the disk keeps of freed blocks is outside SQLite's reach: put var/keys on an
encrypted volume.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import make_url

from clearguard.crypto.errors import KeyUnavailable
from clearguard.crypto.keyfiles import check_private, ensure_keys_dir
from clearguard.db import UTCDateTime, utcnow

_POOL_FIRST = 64
_POOL_MAX = 1024

# Deliberately not clearguard.db.Base.metadata: this table must never be in the data schema or its backups.
share_metadata = MetaData()
shares_table = Table(
    "crypto_party_shares",
    share_metadata,
    Column("key_uid", String(32), primary_key=True),
    Column("share", LargeBinary(32), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)


def default_url(keys_dir: Path) -> str:
    return f"sqlite:///{keys_dir / 'shares.db'}"


class ShareStore:
    def __init__(self, url: str, *, create: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self._sqlite = parsed.get_backend_name() == "sqlite"
        if self._sqlite:
            path = Path(parsed.database or "")
            if create:
                ensure_keys_dir(path.parent)
                if not path.exists():
                    # Created 0600 before SQLite opens it: SQLite would create it with the umask (0644).
                    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            elif not path.exists():
                raise KeyUnavailable(
                    f"party share store {path} is missing: run `clearguard keys init` (or restore var/keys)"
                )
            check_private(path)
            self.engine: Engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA secure_delete=ON")
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=FULL")
                cursor.close()
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
        self._pool: list[tuple[str, bytes]] = []
        self._pool_next = _POOL_FIRST
        self._pool_low = 0
        self._pool_lock = threading.Lock()
        self._pool_pid = os.getpid()
        self._refill: threading.Thread | None = None
        self._closed = False
        self._orphans: list[tuple[str, bytes]] = []  # written by a refill that finished after close
        present = inspect(self.engine).has_table(shares_table.name)
        self.created = create and not present
        if self.created:
            share_metadata.create_all(self.engine)
        elif not present:
            self.engine.dispose()
            raise KeyUnavailable(
                f"party share store at {make_url(url).render_as_string()} has no share table: "
                "run `clearguard keys init`"
            )

    def store(self, shares: list[tuple[str, bytes]]) -> None:
        """Persist (key uid, share) pairs in one transaction (one fsync for a whole batch of new keys).
        CryptoService calls it just before the caller's transaction commits, so no data key row ever
        commits without its share being durable first; a caller that then fails leaves orphan shares,
        which are harmless."""
        if not shares:
            return
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(
                insert(shares_table), [{"key_uid": uid, "share": share, "created_at": now} for uid, share in shares]
            )

    def reserve(self) -> tuple[str, bytes]:
        """A fresh (key uid, share) pair, already durable here, for a new data key: each is handed out
        once. Thread-safe. When the pool runs low, the next chunk is written by a thread of its own
        while lodging goes on (the share store's commit waits for its fsync); only an empty pool makes
        the caller wait."""
        with self._pool_lock:
            if self._pool_pid != os.getpid():  # a forked child never hands out its parent's shares
                self._pool, self._pool_pid, self._refill = [], os.getpid(), None
            if not self._pool:
                self._pool = self._new_chunk(self._next_size())  # durable before any is handed out
            share = self._pool.pop()
            if len(self._pool) <= self._pool_low and self._refill is None and not self._closed:
                self._refill = threading.Thread(
                    target=self._refill_pool, args=(self._next_size(),), name="clearguard-share-pool", daemon=True
                )
                self._refill.start()
            return share

    def _next_size(self) -> int:
        size = self._pool_next
        self._pool_next = min(2 * size, _POOL_MAX)
        self._pool_low = size // 4
        return size

    def _new_chunk(self, size: int) -> list[tuple[str, bytes]]:
        # One read of the OS's random source for the whole chunk: 16 bytes of uid and 32 of share each.
        randomness = secrets.token_bytes(48 * size)
        chunk = [(randomness[at : at + 16].hex(), randomness[at + 16 : at + 48]) for at in range(0, 48 * size, 48)]
        self.store(chunk)
        return chunk

    def _refill_pool(self, size: int) -> None:
        try:
            chunk = self._new_chunk(size)
        except Exception:  # the next reserve on an empty pool refills itself, and reports a failure
            chunk = []
        with self._pool_lock:
            if self._pool_pid == os.getpid() and not self._closed:
                self._pool[:0] = chunk  # handed out after what is left of the current chunk
            else:
                self._orphans.extend(chunk)
            self._refill = None

    def get(self, key_uid: str) -> bytes | None:
        with self.engine.connect() as conn:
            value = conn.execute(select(shares_table.c.share).where(shares_table.c.key_uid == key_uid)).scalar()
        return None if value is None else bytes(value)

    def present(self, key_uids: list[str]) -> set[str]:
        """Which of `key_uids` still have a share (one query per call)."""
        if not key_uids:
            return set()
        with self.engine.connect() as conn:
            found = conn.execute(select(shares_table.c.key_uid).where(shares_table.c.key_uid.in_(key_uids)))
            return {str(uid) for uid in found.scalars()}

    def destroy(self, key_uid: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(delete(shares_table).where(shares_table.c.key_uid == key_uid))
        if self._sqlite:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return bool(result.rowcount)

    def destroy_many(self, key_uids: Sequence[str]) -> int:
        """destroy() of several shares in one transaction and, on SQLite, one WAL truncation."""
        if not key_uids:
            return 0
        removed = 0
        with self.engine.begin() as conn:
            for start in range(0, len(key_uids), 500):
                chunk = list(key_uids[start : start + 500])
                removed += conn.execute(delete(shares_table).where(shares_table.c.key_uid.in_(chunk))).rowcount
        if self._sqlite:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed

    def created_at(self, key_uid: str) -> datetime | None:
        with self.engine.connect() as conn:
            value: datetime | None = conn.execute(
                select(shares_table.c.created_at).where(shares_table.c.key_uid == key_uid)
            ).scalar()
        return value

    def close(self) -> None:
        with self._pool_lock:
            self._closed = True
            refill = self._refill
        if refill is not None:
            refill.join()
        with self._pool_lock:
            unused = [uid for uid, _share in self._pool + self._orphans]
            self._pool, self._orphans = [], []
        if unused:
            with self.engine.begin() as conn:
                for start in range(0, len(unused), 500):
                    conn.execute(delete(shares_table).where(shares_table.c.key_uid.in_(unused[start : start + 500])))
        self.engine.dispose()
