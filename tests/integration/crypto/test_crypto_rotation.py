"""KEK rotation: rewraps every data key, resumes after a crash, loses nothing under concurrent writes."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import BigInteger, Column, Engine, Integer, LargeBinary, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from clearguard.config import Settings
from clearguard.crypto import CryptoService, build_crypto_service
from clearguard.crypto.fields import FieldRef
from clearguard.crypto.providers import KeyProvider
from clearguard.crypto.tables import DataKey
from clearguard.db import transaction

# A stand-in for the declarations table: only what the test needs to check that nothing was lost.
sealed_meta = MetaData()
sealed = Table(
    "test_sealed_values",
    sealed_meta,
    Column("id", Integer, primary_key=True),
    Column("key_id", BigInteger, nullable=False),
    Column("record", String(40), nullable=False),
    Column("plaintext", String(80), nullable=False),
    Column("blob", LargeBinary, nullable=False),
)


def ref(record: str) -> FieldRef:
    return FieldRef("declarations", record, "seller.name", 1)


def lodge(vault: CryptoService, session: Session, party: str, record: str) -> None:
    key_id = vault.key_for_party(session, party)
    plaintext = f"name of {party} on {record}"
    session.execute(
        insert(sealed).values(
            key_id=key_id,
            record=record,
            plaintext=plaintext,
            blob=vault.seal(session, key_id, ref(record), plaintext),
        )
    )


def check_all_readable(vault: CryptoService, factory: sessionmaker[Session]) -> int:
    with transaction(factory) as session:
        rows = session.execute(select(sealed)).all()
        for row in rows:
            assert vault.open(session, row.key_id, ref(row.record), row.blob) == row.plaintext
    return len(rows)


class FailingProvider:
    """Delegates to a real provider, then fails like a crash after `wraps` wraps under `version`."""

    def __init__(self, inner: KeyProvider, version: int, wraps: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = version
        self.left = wraps

    def wrap(self, version: int, key: bytes, aad: bytes) -> bytes:
        if version == self.version:
            if self.left == 0:
                raise RuntimeError("simulated crash during rotation")
            self.left -= 1
        return self.inner.wrap(version, key, aad)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.asvs("V11.2.2")
def test_rotate_rewraps_everything_and_reports(
    key_settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    sealed_meta.create_all(engine)
    vault = build_crypto_service(key_settings.model_copy(update={"crypto_rotate_batch": 7}))
    try:
        with transaction(session_factory) as session:
            for i in range(30):
                lodge(vault, session, f"eori:GB{i:012d}", f"R{i}")
        seen: list[tuple[int, int]] = []
        result = vault.rotate(session_factory, progress=lambda done, total: seen.append((done, total)))
        assert (result.version, result.rewrapped, result.resumed) == (2, 30, False)
        assert seen[0] == (0, 30) and seen[-1] == (30, 30) and len(seen) == 1 + 5
        with transaction(session_factory) as session:
            status = vault.status(session)
        assert status.current_version == 2
        assert [(v.version, v.data_keys) for v in status.versions] == [(1, 0), (2, 30)]
        assert status.pending_rewrap == 0
        assert (key_settings.keys_dir / "kek-v0002.key").is_file()
        cold = build_crypto_service(key_settings)
        try:
            assert check_all_readable(cold, session_factory) == 30
        finally:
            cold.close()
    finally:
        vault.close()


def test_rotation_resumes_after_crash(
    key_settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    sealed_meta.create_all(engine)
    vault = build_crypto_service(key_settings.model_copy(update={"crypto_rotate_batch": 4}))
    try:
        with transaction(session_factory) as session:
            for i in range(10):
                lodge(vault, session, f"eori:GB{i:012d}", f"R{i}")
        real = vault.provider
        vault.provider = FailingProvider(real, version=2, wraps=6)
        with pytest.raises(RuntimeError, match="simulated crash"):
            vault.rotate(session_factory)
        vault.provider = real
        with transaction(session_factory) as session:
            status = vault.status(session)
        # The first batch (4) committed; the second died half-way and rolled back as a whole.
        assert status.current_version == 2 and status.pending_rewrap == 6
        result = vault.rotate(session_factory)
        assert (result.version, result.rewrapped, result.resumed) == (2, 6, True)
        with transaction(session_factory) as session:
            assert vault.status(session).pending_rewrap == 0
        assert check_all_readable(vault, session_factory) == 10
    finally:
        vault.close()


def test_rotation_during_concurrent_lodging_loses_nothing(
    key_settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    sealed_meta.create_all(engine)
    writer_vault = build_crypto_service(key_settings)
    rotator = build_crypto_service(key_settings.model_copy(update={"crypto_rotate_batch": 5}))
    errors: list[BaseException] = []
    started = threading.Event()
    try:
        with transaction(session_factory) as session:
            for i in range(60):
                lodge(writer_vault, session, f"eori:GB{i:012d}", f"seed{i}")

        def writer(worker: int) -> None:
            try:
                for i in range(40):
                    with transaction(session_factory) as session:
                        # Half existing parties (keys being rewrapped), half new ones.
                        party = f"eori:GB{(i * 3 + worker) % 60:012d}" if i % 2 else f"eori:FR{worker}{i:010d}"
                        lodge(writer_vault, session, party, f"w{worker}-{i}")
                    started.set()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(2)]
        for thread in threads:
            thread.start()
        assert started.wait(30)
        first = rotator.rotate(session_factory)
        for thread in threads:
            thread.join(120)
        assert not errors, errors
        # Keys created under v1 by transactions that began before v2 was committed are finished here.
        second = rotator.rotate(session_factory)
        assert first.version == 2 and second.version in (2, 3)
        with transaction(session_factory) as session:
            status = rotator.status(session)
            total = session.execute(select(func.count()).select_from(sealed)).scalar_one()
            keys = session.execute(select(func.count()).select_from(DataKey)).scalar_one()
        assert status.pending_rewrap == 0
        assert total == 60 + 80
        assert keys == status.live_keys == 60 + 40
        cold = build_crypto_service(key_settings)
        try:
            assert check_all_readable(cold, session_factory) == 140
        finally:
            cold.close()
    finally:
        writer_vault.close()
        rotator.close()


def test_shred_during_rotation_is_not_undone(
    key_settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    sealed_meta.create_all(engine)
    vault = build_crypto_service(key_settings.model_copy(update={"crypto_rotate_batch": 3}))
    try:
        with transaction(session_factory) as session:
            for i in range(9):
                lodge(vault, session, f"eori:GB{i:012d}", f"R{i}")
        calls = 0

        def shred_midway(done: int, total: int) -> None:
            nonlocal calls
            calls += 1
            if calls == 2:  # after the first batch: shred a key the rotation has not reached yet
                with transaction(session_factory) as session:
                    waiting = session.execute(
                        select(DataKey.id).where(DataKey.kek_version == 1, DataKey.wrapped.is_not(None)).limit(1)
                    ).scalar_one()
                    assert vault.shred_key(session, waiting)

        result = vault.rotate(session_factory, progress=shred_midway)
        assert result.rewrapped == 8
        with transaction(session_factory) as session:
            status = vault.status(session)
            assert status.live_keys == 8 and status.shredded_keys == 1
            assert session.execute(select(func.count()).where(DataKey.wrapped.is_(None))).scalar_one() == 1
    finally:
        vault.close()
