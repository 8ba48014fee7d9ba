"""Backups end to end on SQLite and PostgreSQL: consistent, encrypted, verified before restore, and a
party shredded after the backup stays erased when it is restored."""

from __future__ import annotations

import os
import sqlite3
import subprocess

import pytest
from sqlalchemy import BigInteger, Column, Engine, Integer, LargeBinary, MetaData, String, Table, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from clearguard.backup import BackupCorrupt, BackupError, create_backup, restore_backup, verify_backup
from clearguard.backup.snapshot import _libpq
from clearguard.config import Settings
from clearguard.crypto import CryptoService, build_crypto_service
from clearguard.crypto.fields import ERASED, FieldRef
from clearguard.crypto.tables import DataKey
from clearguard.db import is_sqlite, transaction

meta = MetaData()
values = Table(
    "test_backup_values",
    meta,
    Column("id", Integer, primary_key=True),
    Column("party", String(40), nullable=False),
    Column("key_id", BigInteger, nullable=False),
    Column("blob", LargeBinary, nullable=False),
)

PARTIES = {
    "eori:GB123456789000": "Jane Doe, 1 High St, jane@example.org",
    "eori:FR123456789000": "Jean Dupont",
}


def ref(party: str) -> FieldRef:
    return FieldRef("test_backup_values", party, "contact", 1)


def lodge(vault: CryptoService, factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        for party, plaintext in PARTIES.items():
            key_id = vault.key_for_party(session, party)
            session.execute(
                insert(values).values(
                    party=party, key_id=key_id, blob=vault.seal(session, key_id, ref(party), plaintext)
                )
            )


def read_all(vault: CryptoService, factory: sessionmaker[Session]) -> dict[str, object]:
    with transaction(factory) as session:
        return {
            row.party: vault.open(session, row.key_id, ref(row.party), row.blob)
            for row in session.execute(select(values)).all()
        }


def test_backup_is_encrypted_and_restores(
    backup_vault: CryptoService,
    backup_key: bytes,
    database_url: str,
    engine: Engine,
    session_factory: sessionmaker[Session],
    tmp_path: os.PathLike[str],
) -> None:
    meta.create_all(engine)
    lodge(backup_vault, session_factory)
    out = tmp_path / "b1.cgb"  # type: ignore[operator]
    info = create_backup(database_url, backup_key, out)
    assert info.kind == ("sqlite" if is_sqlite(database_url) else "pg_dump")
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    raw = out.read_bytes()
    for needle in (b"test_backup_values", b"crypto_data_keys", b"CREATE TABLE"):
        assert needle not in raw
    with pytest.raises(BackupError, match="already exists"):
        create_backup(database_url, backup_key, out)
    # Change the data after the backup, then restore.
    with transaction(session_factory) as session:
        session.execute(update(values).values(blob=b"overwritten"))
    restore_backup(database_url, backup_key, out)
    engine.dispose()  # fresh connections see the restored tables
    assert read_all(backup_vault, session_factory) == PARTIES


def test_damaged_backup_restores_nothing(
    backup_vault: CryptoService,
    backup_key: bytes,
    database_url: str,
    engine: Engine,
    session_factory: sessionmaker[Session],
    tmp_path: os.PathLike[str],
) -> None:
    meta.create_all(engine)
    lodge(backup_vault, session_factory)
    out = tmp_path / "b.cgb"  # type: ignore[operator]
    create_backup(database_url, backup_key, out, chunk_size=4096)
    with transaction(session_factory) as session:
        session.execute(update(values).values(blob=b"after backup"))
    data = bytearray(out.read_bytes())
    data[-3] ^= 0x01  # damage the very end: everything before it verifies
    out.write_bytes(bytes(data))
    with pytest.raises(BackupCorrupt, match="does not authenticate"):
        restore_backup(database_url, backup_key, out)
    with transaction(session_factory) as session:
        assert set(session.execute(select(values.c.blob)).scalars()) == {b"after backup"}
    with pytest.raises(BackupCorrupt, match="different backup key"):
        verify_backup(b"x" * 32, out)


def test_shred_then_restore_older_backup_stays_erased(
    backup_vault: CryptoService,
    backup_settings: Settings,
    backup_key: bytes,
    database_url: str,
    engine: Engine,
    session_factory: sessionmaker[Session],
    tmp_path: os.PathLike[str],
) -> None:
    meta.create_all(engine)
    lodge(backup_vault, session_factory)
    older = tmp_path / "before-shred.cgb"  # type: ignore[operator]
    create_backup(database_url, backup_key, older)
    with transaction(session_factory) as session:
        assert backup_vault.shred(session, "eori:GB123456789000") == 1
    marked: list[int] = []
    restore_backup(
        database_url, backup_key, older, after=lambda: marked.append(backup_vault.reconcile(session_factory))
    )
    engine.dispose()
    assert marked == [1]
    # A process started after the restore, with nothing cached, reads the shredded party as erased.
    fresh = build_crypto_service(backup_settings)
    try:
        got = read_all(fresh, session_factory)
        assert got["eori:GB123456789000"] is ERASED
        assert got["eori:FR123456789000"] == "Jean Dupont"
        with transaction(session_factory) as session:
            row = session.execute(select(DataKey).where(DataKey.shredded_at.is_not(None))).scalar_one()
            assert row.wrapped is None
            # The party may come back: it gets a fresh key, the old fields stay erased.
            assert fresh.key_for_party(session, "eori:GB123456789000") != row.id
    finally:
        fresh.close()


def test_restored_older_backup_without_reconcile_still_erased(
    backup_vault: CryptoService,
    backup_settings: Settings,
    backup_key: bytes,
    database_url: str,
    engine: Engine,
    session_factory: sessionmaker[Session],
    tmp_path: os.PathLike[str],
) -> None:
    """Even a restore done behind ClearGuard's back (no reconcile) cannot bring the party back: the
    backup holds its wrapped data key, but the share that completes it is gone."""
    meta.create_all(engine)
    lodge(backup_vault, session_factory)
    older = tmp_path / "older.cgb"  # type: ignore[operator]
    create_backup(database_url, backup_key, older)
    with transaction(session_factory) as session:
        backup_vault.shred(session, "eori:FR123456789000")
    restore_backup(database_url, backup_key, older)
    engine.dispose()
    with transaction(session_factory) as session:
        assert session.execute(select(DataKey.wrapped).where(DataKey.wrapped.is_(None))).first() is None
    fresh = build_crypto_service(backup_settings)
    try:
        got = read_all(fresh, session_factory)
        assert got == {"eori:GB123456789000": PARTIES["eori:GB123456789000"], "eori:FR123456789000": ERASED}
    finally:
        fresh.close()


def test_plaintext_never_in_database_file_or_dump(
    backup_vault: CryptoService, database_url: str, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    meta.create_all(engine)
    lodge(backup_vault, session_factory)
    if is_sqlite(database_url):
        engine.dispose()
        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with open(path, "rb") as handle:
            raw = handle.read()
    else:
        uri, env, schema = _libpq(database_url)
        raw = subprocess.run(
            ["pg_dump", "--format=plain", f"--dbname={uri}", f"--schema={schema}"],
            env=env,
            check=True,
            capture_output=True,
        ).stdout
        assert b"test_backup_values" in raw  # the dump is a real one
    for plaintext in PARTIES.values():
        for part in plaintext.split(", "):
            assert part.encode() not in raw, part
