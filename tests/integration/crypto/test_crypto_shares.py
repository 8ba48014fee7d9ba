"""The party share store on SQLite (the default, under var/keys) and on PostgreSQL (for several hosts)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from clearguard.crypto import InsecureKeyFile, KeyUnavailable
from clearguard.crypto.shares import ShareStore, default_url, shares_table


def test_store_round_trip_on_both_databases(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        os.chmod(database_url.removeprefix("sqlite:///"), 0o600)  # the store refuses a readable file
    store = ShareStore(database_url, create=True)
    try:
        shares = [(f"uid{i}", os.urandom(32)) for i in range(5)]
        store.store(shares)
        assert store.get("uid3") == shares[3][1]
        assert store.present(["uid1", "uid4", "nope"]) == {"uid1", "uid4"}
        assert store.destroy("uid1") is True
        assert store.destroy("uid1") is False
        assert store.get("uid1") is None
    finally:
        store.close()
    reopened = ShareStore(database_url)
    try:
        assert reopened.get("uid3") == shares[3][1]
    finally:
        reopened.close()


def test_sqlite_store_is_private_and_required(tmp_path: Path) -> None:
    url = default_url(tmp_path / "keys")
    with pytest.raises(KeyUnavailable, match=r"party share store .* is missing"):
        ShareStore(url)
    ShareStore(url, create=True).close()
    path = tmp_path / "keys" / "shares.db"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(path, 0o644)
    with pytest.raises(InsecureKeyFile):
        ShareStore(url)


def test_destroyed_share_leaves_no_copy_in_the_sqlite_files(tmp_path: Path) -> None:
    url = default_url(tmp_path / "keys")
    store = ShareStore(url, create=True)
    secret = os.urandom(32)
    try:
        store.store([("victim", secret), ("other", os.urandom(32))])
        store.destroy("victim")
    finally:
        store.close()
    for path in (tmp_path / "keys").iterdir():
        assert secret not in path.read_bytes(), path.name


def test_reserved_shares_are_durable_unique_and_unused_ones_go_on_close(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        os.chmod(database_url.removeprefix("sqlite:///"), 0o600)
    store = ShareStore(database_url, create=True)
    reserved = [store.reserve() for _ in range(100)]  # more than the first refill
    assert len({uid for uid, _share in reserved}) == 100
    assert len({share for _uid, share in reserved}) == 100
    other = ShareStore(database_url)  # another process sees them committed before any is handed out
    try:
        assert all(other.get(uid) == share for uid, share in reserved)
        pooled = [uid for uid, _share in store._pool]
        assert pooled and other.present(pooled) == set(pooled)
        store.close()
        assert other.present(pooled) == set()  # never handed out: gone
        assert other.present([uid for uid, _share in reserved]) == {uid for uid, _share in reserved}
    finally:
        other.close()


def test_the_pool_is_refilled_ahead_of_need_and_a_late_refill_is_cleaned_up(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        os.chmod(database_url.removeprefix("sqlite:///"), 0o600)
    store = ShareStore(database_url, create=True)
    other = ShareStore(database_url)
    try:
        first = [store.reserve() for _ in range(60)]  # of the first 64: below the low-water mark
        refill = store._refill
        assert refill is not None  # started by a reserve, which did not wait for it
        refill.join()
        assert len(store._pool) > 64 - 60  # the next chunk arrived behind what was left
        pooled = [uid for uid, _share in store._pool]
        assert other.present(pooled) == set(pooled)  # durable before any of it is handed out
        more = [store.reserve() for _ in range(300)]  # through several chunks, some refilled ahead
        uids = {uid for uid, _share in first + more}
        assert len(uids) == 360 and other.present(list(uids)) == uids
        last = store.reserve()
        late = store._refill  # may still be writing when the store closes
        left = [uid for uid, _share in store._pool]
        store.close()
        assert late is None or not late.is_alive()
        assert left and other.present(left) == set()  # never handed out: gone, a late chunk's too
        assert other.present([last[0], *uids]) == {last[0], *uids}
        with other.engine.connect() as conn:  # and nothing else: a chunk written after close is deleted too
            assert set(conn.execute(select(shares_table.c.key_uid)).scalars()) == {last[0], *uids}
    finally:
        other.close()
