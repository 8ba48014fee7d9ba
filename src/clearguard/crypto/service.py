"""CryptoService: envelope encryption of protected fields (the FieldVault of the declarations port),
KEK rotation, crypto-shredding and blind indexes.

Key hierarchy: provider KEK version -> per-party data key (wrapped in crypto_data_keys) + the party's
share (outside the database, see shares) -> HKDF -> AES-256-GCM per field, with FieldRef as AAD.
"""

from __future__ import annotations

import functools
import os
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Table, bindparam, event, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from clearguard.crypto import envelope
from clearguard.crypto.blind import BlindIndexer
from clearguard.crypto.cache import TtlLru
from clearguard.crypto.erasure import ShredListener
from clearguard.crypto.errors import DecryptionFailed, KeyShredded, KeyUnavailable
from clearguard.crypto.fields import ERASED, Erased, FieldRef
from clearguard.crypto.pending import NewKey, TransactionKeys
from clearguard.crypto.providers import KeyProvider
from clearguard.crypto.shares import ShareStore
from clearguard.crypto.tables import DataKey, KekVersion, ShredEpoch
from clearguard.db import DriverStatement, bulk_insert, transaction, utcnow

_V1: Final = bytes([envelope.FORMAT_V1])
_NONCE_BYTES: Final = envelope.NONCE_BYTES
_NONCE_END: Final = 1 + _NONCE_BYTES
_OVERHEAD: Final = envelope.OVERHEAD
_FORMAT_V1: Final = envelope.FORMAT_V1
_MAX_SUFFIXES: Final = 4096
_urandom: Final = os.urandom
_monotonic: Final = time.monotonic
_TX: Final = "clearguard.crypto.transaction_keys"
_MEMO_KINDS: Final = frozenset({"eori", "party"})
_REGISTERED: Final = "clearguard.crypto.registered_kek"
# (the session's transaction, the shred epoch it read): see _sync_epoch.
_EPOCH: Final = "clearguard.crypto.shred_epoch"
_EPOCH_ROW: Final = 1
_VERSION_SECONDS: Final = 5.0
# Built once: statement construction costs more than the indexed lookup itself.
_KEY_COLUMNS: Final = (DataKey.id, DataKey.uid, DataKey.kek_version, DataKey.wrapped)
_DATA_KEYS: Final = cast(Table, DataKey.__table__)
_KEY_BY_ID: Final = select(*_KEY_COLUMNS).where(DataKey.id == bindparam("key_id"))
# A party normally has one live key; two transactions racing on a new party may each make one (both
# valid, both shredded together), and the oldest is used from then on.
_KEYS_BY_PARTIES: Final = (
    select(DataKey.party_index, *_KEY_COLUMNS)
    .where(DataKey.party_index.in_(bindparam("indexes", expanding=True)), DataKey.wrapped.is_not(None))
    .order_by(DataKey.created_at, DataKey.id)
)
# The same query as driver SQL, for the dialects' placeholder styles (SQLite qmark, psycopg format);
# only placeholders are ever put into it, values always go as parameters.
_KEYS_BY_PARTIES_SQL: Final = (
    "SELECT party_index, id, uid, kek_version, wrapped FROM crypto_data_keys "
    "WHERE party_index IN ({}) AND wrapped IS NOT NULL ORDER BY created_at, id"
)
_PLACEHOLDERS: Final = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_LOOKUP_CHUNK: Final = 500
_KeyRow = tuple[int, str, int, bytes]
# Once per transaction that uses keys: on the driver (see DriverStatement).
_SHRED_EPOCH: Final = DriverStatement(select(ShredEpoch.epoch).where(ShredEpoch.id == _EPOCH_ROW))
# Every few seconds, and first thing in each new process's first lodging: on the driver.
_CURRENT_VERSION: Final = DriverStatement(select(func.max(KekVersion.version)))
# Run before every commit that used a data key: on the driver (see DriverStatement).
_LIVE_KEYS: Final = DriverStatement(
    select(DataKey.id)
    .where(DataKey.id.in_(bindparam("ids", expanding=True)), DataKey.wrapped.is_not(None))
    .with_for_update(read=True)
)


def _new_key_id() -> int:
    """Random, not a sequence: the id is known before the row is written (rows are written in one batch
    at commit), and ids freed by a rollback are never handed to another key."""
    key_id = 0
    while not key_id:  # uniform over 1 .. 2**63 - 1
        key_id = secrets.randbits(63)
    return key_id


class _ErasedKey:
    """Cache entry for a data key known to be shredded."""


_ERASED_KEY: Final = _ErasedKey()
_CacheEntry = AESGCM | _ErasedKey
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class KekVersionStatus:
    version: int
    provider: str
    created_at: datetime
    data_keys: int


@dataclass(frozen=True, slots=True)
class KeyStatus:
    provider: str
    current_version: int | None
    versions: tuple[KekVersionStatus, ...]
    live_keys: int
    shredded_keys: int
    pending_rewrap: int


@dataclass(frozen=True, slots=True)
class ShareStoreHealth:
    """Whether the party share store answers, and whether the newest live data keys still have their
    shares there (a live key without its share is data nobody can read any more)."""

    reachable: bool
    detail: str
    sampled: int
    missing: int


@dataclass(frozen=True, slots=True)
class RotationResult:
    version: int
    rewrapped: int
    resumed: bool


class CryptoService:
    """Satisfies clearguard.declarations.ports.FieldVault. Thread-safe; one per process.

    Unwrapped keys are cached, and a shred committed by another process must still take effect here at
    once: every shred moves the shred epoch (crypto_shred_epoch) in its own transaction, and the first
    use of keys in each transaction reads it (one indexed row) and drops every cached key when it has
    moved. A transaction that began before the shred may finish with what it had; the next one cannot."""

    def __init__(
        self,
        provider: KeyProvider,
        shares: ShareStore,
        index_key: bytes,
        *,
        cache_size: int = 10_000,
        cache_seconds: float = 300.0,
        rotate_batch: int = 200,
    ) -> None:
        self.provider = provider
        self.shares = shares
        self._indexer = BlindIndexer(index_key)
        self._cache: TtlLru[int, _CacheEntry] = TtlLru(cache_size, cache_seconds)
        self._rotate_batch = rotate_batch
        self._version_cache: tuple[int, float] | None = None
        self._parties: TtlLru[str, int] = TtlLru(cache_size, cache_seconds)
        # Traders' EORIs and party references repeat from one declaration to the next; names and
        # documents are not memoised, so no personal value lingers in memory beyond its request.
        self._memo_index = functools.lru_cache(maxsize=cache_size)(self._indexer.index)
        self._cache_entries = self._cache.entries
        self._aad_prefix: tuple[str, str, bytes] = ("", "", b"")
        self._aad_suffixes: dict[str, tuple[int, bytes]] = {}
        self._new_prefix("", "")
        self._epoch = -1  # the shred epoch the caches hold keys for; -1: none read yet
        self._epoch_lock = threading.Lock()
        self._listeners: list[ShredListener] = []

    def add_shred_listener(self, listener: ShredListener) -> None:
        """Called in every shred's transaction with the party reference (clearguard.wiring registers
        the capabilities that keep blind indexes or references of parties)."""
        self._listeners.append(listener)

    # --- FieldVault ---------------------------------------------------------------------------------

    def key_for_party(self, session: Session, party_ref: str) -> int:
        # The common case, a party already resolved in this transaction: two dict probes.
        tx: TransactionKeys | None = session.info.get(_TX)
        if tx is not None:
            key_id = tx.refs.get(party_ref)
            if key_id is not None:
                return key_id
        else:
            tx = self._tx(session)
        # Next, a party known to this process (see _resolve): without _resolve's batch bookkeeping.
        self._sync_epoch(session)
        index = self.party_index(party_ref)
        known = tx.parties.get(index)
        if known is None:
            cached = self._parties.get(index)
            if cached is None or self._cache.get(cached).__class__ is not AESGCM:
                return self._resolve(session, (party_ref,))[0]
            known = tx.parties[index] = (cached, _owner(session))
        tx.refs[party_ref] = known[0]
        return known[0]

    def keys_for_parties(self, session: Session, party_refs: Sequence[str]) -> list[int]:
        """key_for_party for many parties at once (say, every party of a batch of declarations), in
        the same order: parties unknown to this process are looked up in one query, not one each."""
        tx: TransactionKeys | None = session.info.get(_TX)
        if tx is not None:
            refs = tx.refs
            found = [refs.get(party_ref) for party_ref in party_refs]
            if None not in found:
                return found  # type: ignore[return-value]  # no None left in it
        return self._resolve(session, party_refs)

    def _resolve(self, session: Session, party_refs: Sequence[str]) -> list[int]:
        tx = self._tx(session)
        self._sync_epoch(session)
        owner = _owner(session)
        resolved: dict[str, int] = {}  # party index -> key id
        unknown: list[str] = []
        for party_ref in party_refs:
            index = self.party_index(party_ref)
            if index in resolved:
                continue
            known = tx.parties.get(index)
            if known is not None:
                resolved[index] = known[0]
                continue
            # A party seen by an earlier transaction in this process resolves from memory; every committed
            # key a transaction used is checked again, under a share lock, just before it commits
            # (_before_commit), so a shred by another process is never missed.
            cached = self._parties.get(index)
            if cached is not None and self._cache.get(cached).__class__ is AESGCM:
                tx.parties[index] = (cached, owner)
                resolved[index] = cached
                continue
            resolved[index] = 0
            unknown.append(index)
        if unknown:
            rows = self._live_keys_of(session, unknown)
            for index in unknown:
                row = rows.get(index)
                if row is not None:
                    key_id, uid, version, wrapped = row
                    if self._cipher_for_row(session, key_id, uid, version, wrapped) is not None:
                        tx.parties[index] = (key_id, owner)
                        resolved[index] = key_id
                        continue
                    # The share is gone but the row is live: a database restored from before a shred.
                    # Finish the shred here so that the party starts over with a fresh key.
                    self._mark_shredded(session, [key_id])
                key_id = self._create_key(session, index, owner)
                tx.parties[index] = (key_id, owner)
                resolved[index] = key_id
        out = [resolved[self.party_index(party_ref)] for party_ref in party_refs]
        refs = tx.refs
        for party_ref, key_id in zip(party_refs, out, strict=True):
            refs[party_ref] = key_id
        return out

    def _live_keys_of(self, session: Session, indexes: list[str]) -> dict[str, _KeyRow]:
        """The oldest live key of each party index that has one: (id, uid, KEK version, wrapped).

        Straight on the driver's cursor, inside the session's transaction: for a new party this query
        is most of what key_for_party costs, and SQLAlchemy's statement execution costs several times
        the indexed probe itself. Any driver error is left to SQLAlchemy, by running the same query
        through it, so that errors are reported (and broken connections handled) as everywhere else."""
        conn = session.connection()
        found: dict[str, _KeyRow] = {}
        for start in range(0, len(indexes), _LOOKUP_CHUNK):
            chunk = indexes[start : start + _LOOKUP_CHUNK]
            for index, key_id, uid, version, wrapped in self._key_rows(conn, chunk):
                if index not in found:  # ordered oldest first
                    found[index] = (int(key_id), str(uid), int(version), bytes(wrapped))
        return found

    @staticmethod
    def _key_rows(conn: Connection, indexes: list[str]) -> Sequence[Any]:
        placeholder = _PLACEHOLDERS.get(conn.dialect.paramstyle)
        dbapi = conn.connection.dbapi_connection
        if placeholder is not None and dbapi is not None:
            sql = _KEYS_BY_PARTIES_SQL.format(", ".join([placeholder] * len(indexes)))  # placeholders only
            cursor = dbapi.cursor()
            try:
                cursor.execute(sql, indexes)
                return list(cursor.fetchall())
            except conn.dialect.loaded_dbapi.Error:
                pass  # reported below, through SQLAlchemy
            finally:
                cursor.close()
        return conn.execute(_KEYS_BY_PARTIES, {"indexes": indexes}).all()

    def seal(self, session: Session, key_id: int, ref: FieldRef, plaintext: str) -> bytes:
        return self.seal_many(session, ((key_id, ref, plaintext),))[0]

    def open(self, session: Session, key_id: int, ref: FieldRef, blob: bytes) -> str | Erased:
        return self.open_many(session, ((key_id, ref, blob),))[0]

    def seal_many(self, session: Session, items: Sequence[tuple[int, FieldRef, str]]) -> list[bytes]:
        """The values of one record (a declaration version's groups and salt) sealed in one call.

        One pass, nothing built per item but its blob: the nonces come from one read of the OS's random
        source (every 12-byte slice of it is as uniformly random as a read of its own), the cipher is
        looked up again only when the key changes from the previous item's, and the associated data is
        envelope.field_aad(table, record, field, version) put together from two memos: the table-and-record
        prefix of the previous item (a record's values come one after another) and the field-and-version
        suffix of each field name (the same few names in every declaration).

        The cipher and AAD look-ups are spelled out here and again in open_many, not called as helpers:
        a method call per value cost about 0.03 of the ratio to raw AESGCM in bench/crypto.py (measured
        side by side), and that ratio is a target of its own."""
        self._sync_epoch(session)
        nonces = _urandom(_NONCE_BYTES * len(items))
        sealed: list[bytes] = []
        append = sealed.append
        prefix = self._aad_prefix
        suffixes = self._aad_suffixes
        last_key: int | None = None
        aead: AESGCM | None = None
        end = 0
        entries = self._cache_entries
        for key_id, ref, plaintext in items:
            if key_id != last_key:
                # A cached cipher while fresh, read straight from the cache's entries; else _cipher.
                entry = entries.get(key_id)
                if entry is not None and entry[1].__class__ is AESGCM and _monotonic() < entry[0]:
                    aead = entry[1]
                else:
                    aead = self._cipher(session, key_id)
                if aead is None:
                    raise KeyUnavailable(f"data key {key_id} is shredded: ask key_for_party for the party's new key")
                last_key = key_id
            assert aead is not None
            if prefix[1] != ref.record_id or prefix[0] != ref.table:
                prefix = self._new_prefix(ref.table, ref.record_id)
            suffix = suffixes.get(ref.field)
            if suffix is None or suffix[0] != ref.version:
                suffix = self._new_suffix(ref.field, ref.version)
                suffixes = self._aad_suffixes  # _new_suffix may have started a new memo
            start = end
            end += _NONCE_BYTES
            nonce = nonces[start:end]
            append(b"".join((_V1, nonce, aead.encrypt(nonce, plaintext.encode(), prefix[2] + suffix[1]))))
        return sealed

    def open_many(self, session: Session, items: Sequence[tuple[int, FieldRef, bytes]]) -> list[str | Erased]:
        """The values of one record opened in one pass (as seal_many); a value under a shredded key reads
        as ERASED, one that does not authenticate raises DecryptionFailed naming where it lives."""
        self._sync_epoch(session)
        opened: list[str | Erased] = []
        append = opened.append
        prefix = self._aad_prefix
        suffixes = self._aad_suffixes
        last_key: int | None = None
        aead: AESGCM | None = None
        entries = self._cache_entries
        for key_id, ref, blob in items:
            if key_id != last_key:
                entry = entries.get(key_id)
                if entry is not None and entry[1].__class__ is AESGCM and _monotonic() < entry[0]:
                    aead = entry[1]
                else:
                    aead = self._cipher(session, key_id)
                last_key = key_id
            if aead is None:
                append(ERASED)
                continue
            if prefix[1] != ref.record_id or prefix[0] != ref.table:
                prefix = self._new_prefix(ref.table, ref.record_id)
            suffix = suffixes.get(ref.field)
            if suffix is None or suffix[0] != ref.version:
                suffix = self._new_suffix(ref.field, ref.version)
                suffixes = self._aad_suffixes
            if len(blob) >= _OVERHEAD and blob[0] == _FORMAT_V1:
                try:
                    append(aead.decrypt(blob[1:_NONCE_END], blob[_NONCE_END:], prefix[2] + suffix[1]).decode())
                    continue
                except InvalidTag:
                    pass
            # Same checks again through the documented core, for its one opaque error message.
            try:
                envelope.open_field(aead, self._aad(ref), blob)
            except DecryptionFailed as exc:
                where = f"{ref.table}.{ref.field} of record {ref.record_id} version {ref.version}"
                raise DecryptionFailed(f"{where}: {exc.detail}", field=ref.field) from None
            raise AssertionError("unreachable: the blob failed once and then authenticated")
        return opened

    def _new_prefix(self, table: str, record: str) -> tuple[str, str, bytes]:
        prefix = (table, record, f"\x01{len(table)}:{table}{len(record)}:{record}".encode())
        self._aad_prefix = prefix  # one attribute store of an immutable tuple: safe between threads
        return prefix

    def _new_suffix(self, field: str, version: int) -> tuple[int, bytes]:
        suffix = (version, f"{len(field)}:{field}{version}".encode())
        if len(self._aad_suffixes) >= _MAX_SUFFIXES:
            self._aad_suffixes = {}  # field names are the code's own, so this is a safety bound only
        self._aad_suffixes[field] = suffix  # single dict stores: safe between threads
        return suffix

    def _aad(self, ref: FieldRef) -> bytes:
        return envelope.field_aad(ref.table, ref.record_id, ref.field, ref.version)

    def blind_index(self, kind: str, value: str) -> str:
        if kind in _MEMO_KINDS:
            return self._memo_index(kind, value)
        return self._indexer.index(kind, value)

    # --- parties and shredding ----------------------------------------------------------------------

    def party_index(self, party_ref: str) -> str:
        return self._memo_index("party", party_ref)

    def shred(self, session: Session, party_ref: str) -> int:
        """Destroy the party's data keys; its fields then read as ERASED everywhere, old backups included.

        Takes effect with the caller's transaction: the keys are marked in it, and their shares (what
        makes every copy of the wrapped keys, backups included, usable) are destroyed once it commits.
        Should the process die between the two, `finish_shreds` (run by `keys shred`, `keys status`
        and restores) destroys the leftovers. Returns the number of keys shredded."""
        index = self.party_index(party_ref)
        ids = list(session.execute(select(DataKey.id).where(DataKey.party_index == index)).scalars())
        tx = self._tx(session)
        tx.parties.pop(index, None)
        tx.refs.clear()
        new = [key_id for key_id, key in tx.new.items() if key.row["party_index"] == index]
        self._mark_shredded(session, ids + new)
        for listener in self._listeners:
            listener.party_shredded(session, party_ref)
        return len(ids) + len(new)

    def shred_many(self, session: Session, party_refs: Sequence[str], *, notify: bool = True) -> int:
        """shred() of several parties in one pass: one look-up, one epoch move. With notify=False the
        shred listeners are not called: for a retention run, which has already removed every row of
        the parties' disposed records and checked its holds in the same transaction, and must leave
        the parties' mentions in other declarations that are still retained. Returns the keys shredded."""
        indexes = sorted({self.party_index(ref) for ref in party_refs})
        ids: list[int] = []
        for start in range(0, len(indexes), 500):
            chunk = indexes[start : start + 500]
            ids.extend(session.execute(select(DataKey.id).where(DataKey.party_index.in_(chunk))).scalars())
        tx = self._tx(session)
        wanted = set(indexes)
        for index in wanted:
            tx.parties.pop(index, None)
        tx.refs.clear()
        new = [key_id for key_id, key in tx.new.items() if key.row["party_index"] in wanted]
        self._mark_shredded(session, ids + new)
        if notify:
            for party_ref in party_refs:
                for listener in self._listeners:
                    listener.party_shredded(session, party_ref)
        return len(ids) + len(new)

    def shred_key(self, session: Session, key_id: int) -> bool:
        exists = key_id in self._tx(session).new
        exists = exists or session.execute(select(DataKey.id).where(DataKey.id == key_id)).scalar() is not None
        if exists:
            self._mark_shredded(session, [key_id])
        return exists

    def reconcile(self, factory: sessionmaker[Session], *, batch: int = 500) -> int:
        """Mark live keys whose share is gone as shredded (after restoring a backup older than a shred);
        returns how many. Reads already show them ERASED; this makes the database say so too."""
        marked = 0
        last_id = 0
        while True:
            with transaction(factory) as session:
                rows = session.execute(
                    select(DataKey.id, DataKey.uid)
                    .where(DataKey.wrapped.is_not(None), DataKey.id > last_id)
                    .order_by(DataKey.id)
                    .limit(batch)
                ).all()
                if not rows:
                    return marked
                last_id = rows[-1].id
                alive = self.shares.present([r.uid for r in rows])
                dead = [r.id for r in rows if r.uid not in alive]
                if dead:
                    self._mark_shredded(session, dead)
                    marked += len(dead)

    def finish_shreds(self, factory: sessionmaker[Session], *, batch: int = 500) -> int:
        """Destroy shares still present for keys the database marks shredded (a process that died
        between committing a shred and destroying the share); returns how many."""
        destroyed = 0
        last_id = 0
        while True:
            with transaction(factory) as session:
                rows = session.execute(
                    select(DataKey.id, DataKey.uid)
                    .where(DataKey.wrapped.is_(None), DataKey.id > last_id)
                    .order_by(DataKey.id)
                    .limit(batch)
                ).all()
            if not rows:
                return destroyed
            last_id = rows[-1].id
            for uid in self.shares.present([r.uid for r in rows]):
                destroyed += int(self.shares.destroy(uid))

    # --- rotation and status ------------------------------------------------------------------------

    def rotate(self, factory: sessionmaker[Session], *, progress: Progress | None = None) -> RotationResult:
        """Make a new KEK version and rewrap every live data key under it, in small committed batches.

        Resumable: if live keys remain under an older version (a rotation that crashed, or keys created
        by transactions that began before the new version was committed), this call finishes that
        rotation instead of starting another. Safe while others write: data keys never change, only
        their wrapping; readers see either wrapping, both valid, and each update is guarded so that a
        concurrent shred is never undone."""
        self._version_cache = None
        with transaction(factory) as session:
            current = self._current_version(session)
            pending = self._count_pending(session, current)
        resumed = pending > 0
        target = current
        if not resumed:
            target = current + 1
            self.provider.create_kek(target)  # idempotent: a crash after this line reuses the key
            try:
                with transaction(factory) as session:
                    session.add(KekVersion(version=target, provider=self.provider.name, created_at=utcnow()))
            except IntegrityError:
                pass  # a concurrent `keys rotate` registered it first; rewrap under it all the same
            self._version_cache = None
        with transaction(factory) as session:
            total = self._count_pending(session, target)
        done = 0
        if progress is not None:
            progress(done, total)
        while True:
            rewrapped = self._rewrap_batch(factory, target)
            if rewrapped is None:
                break
            done += rewrapped
            if progress is not None:
                progress(done, max(total, done))
        return RotationResult(version=target, rewrapped=done, resumed=resumed)

    def _rewrap_batch(self, factory: sessionmaker[Session], target: int) -> int | None:
        with transaction(factory) as session:
            rows = session.execute(
                select(DataKey.id, DataKey.uid, DataKey.kek_version, DataKey.wrapped)
                .where(DataKey.wrapped.is_not(None), DataKey.kek_version < target)
                .order_by(DataKey.id)
                .limit(self._rotate_batch)
            ).all()
            if not rows:
                return None
            now = utcnow()
            for row in rows:
                data_key = self._unwrap(row.id, row.uid, row.kek_version, row.wrapped)
                new_wrapped = self.provider.wrap(target, data_key, envelope.wrap_aad(row.uid, target))
                session.execute(
                    update(DataKey)
                    .where(
                        DataKey.id == row.id,
                        DataKey.kek_version == row.kek_version,
                        DataKey.wrapped.is_not(None),
                    )
                    .values(kek_version=target, wrapped=new_wrapped, rewrapped_at=now)
                    .execution_options(synchronize_session=False)
                )
            return len(rows)

    def status(self, session: Session) -> KeyStatus:
        counts = dict(
            session.execute(
                select(DataKey.kek_version, func.count())
                .where(DataKey.wrapped.is_not(None))
                .group_by(DataKey.kek_version)
            )
            .tuples()
            .all()
        )
        versions = tuple(
            KekVersionStatus(v.version, v.provider, v.created_at, int(counts.get(v.version, 0)))
            for v in session.execute(select(KekVersion).order_by(KekVersion.version)).scalars()
        )
        current = versions[-1].version if versions else None
        shredded = session.execute(select(func.count()).where(DataKey.wrapped.is_(None))).scalar_one()
        live = sum(v.data_keys for v in versions)
        pending = live - (versions[-1].data_keys if versions else 0)
        return KeyStatus(self.provider.name, current, versions, live, int(shredded), pending)

    def share_store_health(self, session: Session, *, sample: int = 200) -> ShareStoreHealth:
        """Probe the share store with the `sample` newest live data keys (one query each side)."""
        uids = list(
            session.execute(
                select(DataKey.uid).where(DataKey.wrapped.is_not(None)).order_by(DataKey.created_at.desc()).limit(sample)
            ).scalars()
        )
        try:
            present = self.shares.present(uids) if uids else set()
            if not uids:
                self.shares.present(["probe"])  # reachability alone, when no key exists yet
        except (SQLAlchemyError, OSError) as exc:
            return ShareStoreHealth(False, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}", 0, 0)
        missing = len(set(uids) - present)
        return ShareStoreHealth(True, "reachable", len(uids), missing)

    def close(self) -> None:
        self._cache.clear()
        self.provider.close()
        self.shares.close()

    # --- internals ----------------------------------------------------------------------------------

    def _current_version(self, session: Session) -> int:
        """The newest KEK version, cached for a few seconds: new keys are created often, rotations are
        rare, and a key wrapped under the previous version during that window is still valid and is
        rewrapped when `keys rotate` resumes."""
        registered: int | None = session.info.get(_REGISTERED)
        if registered is not None:
            return registered  # registered by this very transaction, not committed yet
        now = time.monotonic()
        cached = self._version_cache
        if cached is not None and now < cached[1]:
            return cached[0]
        [(version,)] = _CURRENT_VERSION.rows(session)
        if version is None:
            # First use of this database: register the version that `keys init` made on the provider.
            if not self.provider.has_kek(1):
                raise KeyUnavailable("no key-encryption key: run `clearguard keys init`")
            conn = session.connection()
            dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            conn.execute(
                dialect_insert(KekVersion)
                .values(version=1, provider=self.provider.name, created_at=utcnow())
                .on_conflict_do_nothing(index_elements=[KekVersion.version])
            )
            # Not cached, in this session at all: its transaction may still roll the registration back.
            session.info[_REGISTERED] = 1
            return 1
        self._version_cache = (int(version), now + _VERSION_SECONDS)
        return int(version)

    def _count_pending(self, session: Session, version: int) -> int:
        return int(
            session.execute(
                select(func.count()).where(DataKey.wrapped.is_not(None), DataKey.kek_version < version)
            ).scalar_one()
        )

    def _create_key(self, session: Session, index: str, owner: SessionTransaction) -> int:
        version = self._current_version(session)
        uid, share = self.shares.reserve()
        data_key = envelope.new_key()
        wrapped = self.provider.wrap(version, data_key, envelope.wrap_aad(uid, version))
        key_id = _new_key_id()
        row = {
            "id": key_id,
            "uid": uid,
            "party_index": index,
            "kek_version": version,
            "wrapped": wrapped,
            "created_at": utcnow(),
            "shredded_at": None,
        }
        self._tx(session).new[key_id] = NewKey(envelope.field_key(data_key, share), owner, row, share)
        return key_id

    def _tx(self, session: Session) -> TransactionKeys:
        tx: TransactionKeys | None = session.info.get(_TX)
        if tx is None:
            tx = TransactionKeys()
            session.info[_TX] = tx
            event.listen(session, "before_commit", self._before_commit)
            event.listen(session, "after_commit", self._committed)
            event.listen(session, "after_soft_rollback", self._rolled_back)
        return tx

    # SQLAlchemy fires before_commit and after_commit for savepoints too: only the real commit counts.

    def _before_commit(self, session: Session) -> None:
        tx: TransactionKeys | None = session.info.get(_TX)
        if tx is None or session.in_nested_transaction():
            return
        used = tx.looked_up()
        if used:
            # Still live? Under a share lock (PostgreSQL), so that a shred waits for this commit and then
            # erases what it wrote, rather than slipping in between. SQLite writers are serialised.
            live = {key_id for (key_id,) in _LIVE_KEYS.rows(session, ids=used)}
            gone = [key_id for key_id in used if key_id not in live and key_id not in tx.shredded]
            if gone:
                for index, (key_id, _by) in tx.parties.items():
                    if key_id in gone:
                        self._parties.discard(index)
                        self._cache.put(key_id, _ERASED_KEY)
                raise KeyShredded(
                    f"data key {gone[0]} was shredded by another transaction while this one used it: "
                    "nothing was written; retry"
                )
        if tx.new:
            # Their shares are durable already (ShareStore.reserve): no data key row ever commits
            # without its share.
            bulk_insert(session, _DATA_KEYS, tx.rows())

    def _committed(self, session: Session) -> None:
        if session.in_nested_transaction():
            return
        session.info.pop(_REGISTERED, None)  # the registered KEK version may be cached from now on
        tx: TransactionKeys | None = session.info.get(_TX)
        if tx is None:
            return
        new, parties, shredded = tx.committed()
        for key_id, aead, uid in new:
            self._cache.put(key_id, _ERASED_KEY if aead is None else aead)
            if aead is None:  # made and shredded in this transaction: its row is written shredded
                self.shares.destroy(uid)
        dead = {key_id for key_id, _uid, _index in shredded}
        if self._current(session):
            for index, key_id in parties:
                if key_id not in dead and key_id in self._cache:
                    self._parties.put(index, key_id)
        # The point of no return: every copy of the wrapped keys, backups included, is now dead.
        self.shares.destroy_many([uid for _key_id, uid, _party in shredded])
        for key_id, _uid, party in shredded:
            self._cache.put(key_id, _ERASED_KEY)
            if party is not None:
                self._parties.discard(party)

    def _rolled_back(self, session: Session, previous_transaction: SessionTransaction) -> None:
        if previous_transaction.parent is None:
            session.info.pop(_REGISTERED, None)  # the registration is gone; the next key registers again
        tx: TransactionKeys | None = session.info.get(_TX)
        if tx is not None:
            tx.drop_under(previous_transaction)

    def _cipher(self, session: Session, key_id: int) -> AESGCM | None:
        """The field cipher of a data key, None when it is shredded (or its share is gone)."""
        self._sync_epoch(session)
        tx: TransactionKeys | None = session.info.get(_TX)
        if tx is not None:
            new = tx.new.get(key_id)
            if new is not None:
                return new.aead if new.share is not None else None
            if key_id in tx.shredded:
                return None
        cached = self._cache.get(key_id)
        if cached is not None:
            return None if isinstance(cached, _ErasedKey) else cached
        row = session.connection().execute(_KEY_BY_ID, {"key_id": key_id}).one_or_none()
        if row is None:
            raise KeyUnavailable(f"data key {key_id} does not exist")
        return self._cipher_for_row(session, row.id, row.uid, row.kek_version, row.wrapped)

    def _cipher_for_row(
        self, session: Session, key_id: int, uid: str, version: int, wrapped: bytes | None
    ) -> AESGCM | None:
        cached = self._cache.get(key_id)
        if cached is not None:
            return None if isinstance(cached, _ErasedKey) else cached
        tx: TransactionKeys | None = session.info.get(_TX)
        aead = tx.get(key_id) if tx is not None else None
        if aead is not None:
            return aead
        share = self.shares.get(uid) if wrapped is not None else None
        if wrapped is None or share is None:
            self._cache.put(key_id, _ERASED_KEY)
            return None
        aead = envelope.field_key(self._unwrap(key_id, uid, version, wrapped), share)
        if self._current(session):
            self._cache.put(key_id, aead)
        return aead

    def _unwrap(self, key_id: int, uid: str, version: int, wrapped: bytes) -> bytes:
        try:
            return self.provider.unwrap(version, wrapped, envelope.wrap_aad(uid, version))
        except DecryptionFailed:
            raise DecryptionFailed(
                f"data key {key_id} does not unwrap under key-encryption key v{version}: "
                "wrong or replaced key-encryption key, or a tampered wrapped key"
            ) from None

    def _sync_epoch(self, session: Session) -> None:
        """Once per transaction: read the shred epoch, and drop every cached key (and party) if a shred
        committed anywhere since the caches were filled. Later calls in the same transaction cost a
        dict probe and an identity check."""
        seen: tuple[SessionTransaction | None, int] | None = session.info.get(_EPOCH)
        if seen is not None and seen[0] is session.get_transaction():
            return
        rows = _SHRED_EPOCH.rows(session)  # begins the transaction if it has not begun
        epoch = int(rows[0][0]) if rows else 0
        session.info[_EPOCH] = (session.get_transaction(), epoch)
        if epoch != self._epoch:
            # Any move, backwards too (a restored database): the caches are for another history.
            with self._epoch_lock:
                if epoch != self._epoch:
                    self._cache.clear()
                    self._parties.clear()
                    self._epoch = epoch

    def _current(self, session: Session) -> bool:
        """Whether `session`'s transaction read the epoch the caches are at: only then may what it
        unwrapped be cached (a transaction that began before a shred may still read the old key)."""
        seen: tuple[SessionTransaction | None, int] | None = session.info.get(_EPOCH)
        return seen is not None and seen[1] == self._epoch

    @staticmethod
    def _move_epoch(session: Session) -> None:
        """epoch + 1 in the caller's transaction (the row is made on first use)."""
        conn = session.connection()
        dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        statement = dialect_insert(ShredEpoch).values(id=_EPOCH_ROW, epoch=1)
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[ShredEpoch.id], set_={"epoch": ShredEpoch.__table__.c.epoch + 1}
            )
        )

    def _mark_shredded(self, session: Session, key_ids: Sequence[int]) -> None:
        """Mark keys shredded in the session's transaction; their shares go when it commits."""
        if not key_ids:
            return
        tx = self._tx(session)
        owner = _owner(session)
        now = utcnow()
        self._move_epoch(session)
        for key_id in key_ids:
            new = tx.new.get(key_id)
            if new is not None:
                # Made in this transaction: its share is destroyed once it commits, and its row is written
                # already shredded, so the fields sealed under it read as erased rather than unknown.
                new.share = None
                new.row.update(wrapped=None, party_index=None, shredded_at=now)
        stored = [key_id for key_id in key_ids if key_id not in tx.new]
        if stored:
            rows = session.execute(
                select(DataKey.id, DataKey.uid, DataKey.party_index).where(DataKey.id.in_(stored))
            ).all()
            for row in rows:
                tx.shredded[row.id] = (row.uid, row.party_index, owner)
            session.execute(
                update(DataKey)
                .where(DataKey.id.in_(stored))
                .values(wrapped=None, party_index=None, shredded_at=now)
                .execution_options(synchronize_session=False)
            )
        tx.refs.clear()
        for index, (key_id, _by) in list(tx.parties.items()):
            if key_id in key_ids:
                del tx.parties[index]


def _owner(session: Session) -> SessionTransaction:
    """The caller's innermost transaction: its savepoint if it is in one."""
    owner = session.get_nested_transaction() or session.get_transaction()
    assert owner is not None, "CryptoService needs a session inside a transaction"
    return owner
