"""CryptoService against the database (SQLite and PostgreSQL): the FieldVault contract, clear errors,
shredding, start-up refusals."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from clearguard.config import Settings
from clearguard.crypto import (
    CryptoService,
    DecryptionFailed,
    InsecureKeyFile,
    KeyUnavailable,
    build_crypto_service,
)
from clearguard.crypto.fields import ERASED, FieldRef
from clearguard.crypto.tables import DataKey
from clearguard.db import transaction
from clearguard.declarations.ports import FieldVault

GB = "eori:GB123456789000"
FR = "eori:FR987654321000"


def ref(record: str = "26GB0000000000001", field: str = "seller.name", version: int = 1) -> FieldRef:
    return FieldRef("declarations", record, field, version)


def test_satisfies_field_vault(vault: CryptoService) -> None:
    as_port: FieldVault = vault
    assert as_port is vault


def test_round_trip_across_transactions_and_processes(
    vault: CryptoService, key_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as session:
        key_id = vault.key_for_party(session, GB)
        assert vault.key_for_party(session, GB) == key_id
        assert vault.key_for_party(session, "EORI:gb123456789000") == key_id
        blob = vault.seal(session, key_id, ref(), "Acme Trading Ltd, 1 High St")
        assert b"Acme" not in blob
    other = build_crypto_service(key_settings)  # a second process: cold cache, same keys
    try:
        with transaction(session_factory) as session:
            assert other.open(session, key_id, ref(), blob) == "Acme Trading Ltd, 1 High St"
            assert other.key_for_party(session, GB) == key_id
    finally:
        other.close()


def test_parties_get_distinct_keys(vault: CryptoService, session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        gb, fr = vault.key_for_party(session, GB), vault.key_for_party(session, FR)
        assert gb != fr
        blob = vault.seal(session, gb, ref(), "x")
        with pytest.raises(DecryptionFailed):
            vault.open(session, fr, ref(), blob)


@pytest.mark.asvs("V11.3.3")
def test_tampered_ciphertext_is_a_clear_error(vault: CryptoService, session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        key_id = vault.key_for_party(session, GB)
        blob = bytearray(vault.seal(session, key_id, ref(), "1200.00 EUR"))
        blob[20] ^= 0x80
        with pytest.raises(
            DecryptionFailed,
            match=r"^declarations\.seller\.name of record 26GB0000000000001 version 1: ciphertext does not",
        ):
            vault.open(session, key_id, ref(), bytes(blob))


def test_ciphertext_moved_to_another_record_fails(vault: CryptoService, session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        key_id = vault.key_for_party(session, GB)
        blob = vault.seal(session, key_id, ref(record="26GB0000000000001"), "Jane Doe")
        for moved in (ref(record="26GB0000000000002"), ref(field="buyer.name"), ref(version=2)):
            with pytest.raises(DecryptionFailed, match="moved from another record"):
                vault.open(session, key_id, moved, blob)


def test_unknown_data_key_is_a_clear_error(vault: CryptoService, session_factory: sessionmaker[Session]) -> None:
    with (
        transaction(session_factory) as session,
        pytest.raises(KeyUnavailable, match="data key 999 does not exist"),
    ):
        vault.open(session, 999, ref(), b"\x01" + bytes(40))


def test_wrong_kek_is_a_clear_error(
    vault: CryptoService, key_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as session:
        key_id = vault.key_for_party(session, GB)
        blob = vault.seal(session, key_id, ref(), "secret")
    kek = key_settings.keys_dir / "kek-v0001.key"
    kek.unlink()
    fd = os.open(kek, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, os.urandom(32))
    os.close(fd)
    other = build_crypto_service(key_settings)
    try:
        with (
            transaction(session_factory) as session,
            pytest.raises(DecryptionFailed, match=f"data key {key_id} does not unwrap under key-encryption key v1"),
        ):
            other.open(session, key_id, ref(), blob)
    finally:
        other.close()


def test_missing_key_file_refuses_start(key_settings: Settings) -> None:
    (key_settings.keys_dir / "blind-index.wrapped").unlink()
    with pytest.raises(KeyUnavailable, match=r"blind-index\.wrapped is missing: run `clearguard keys init`"):
        build_crypto_service(key_settings)


def test_missing_kek_refuses_start(key_settings: Settings) -> None:
    (key_settings.keys_dir / "kek-v0001.key").unlink()
    with pytest.raises(KeyUnavailable, match="key-encryption key v1 is missing"):
        build_crypto_service(key_settings)


@pytest.mark.asvs("V13.3.2")
@pytest.mark.parametrize("name", ["kek-v0001.key", "kek-aux.key", "shares.db", "backup.wrapped"])
def test_readable_key_file_refuses_start(key_settings: Settings, name: str) -> None:
    os.chmod(key_settings.keys_dir / name, 0o640)
    with pytest.raises(InsecureKeyFile, match=f"{name} is accessible by group or others"):
        build_crypto_service(key_settings)


@pytest.mark.asvs("V13.3.2")
def test_readable_keys_dir_refuses_start(key_settings: Settings) -> None:
    os.chmod(key_settings.keys_dir, 0o755)
    with pytest.raises(InsecureKeyFile, match="chmod 700"):
        build_crypto_service(key_settings)


def test_shred_erases_everywhere_and_party_starts_over(
    vault: CryptoService, key_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as session:
        gb = vault.key_for_party(session, GB)
        fr = vault.key_for_party(session, FR)
        gb_blob = vault.seal(session, gb, ref(), "Jane Doe")
        fr_blob = vault.seal(session, fr, ref(record="r2"), "Jean Dupont")
    other = build_crypto_service(key_settings)  # warm cache in another process
    with transaction(session_factory) as session:
        assert other.open(session, gb, ref(), gb_blob) == "Jane Doe"
    with transaction(session_factory) as session:
        assert vault.shred(session, GB) == 1
    with transaction(session_factory) as session:
        assert vault.open(session, gb, ref(), gb_blob) is ERASED
        assert vault.open(session, fr, ref(record="r2"), fr_blob) == "Jean Dupont"
        with pytest.raises(KeyUnavailable, match="shredded"):
            vault.seal(session, gb, ref(), "again")
        row = session.get(DataKey, gb)
        assert row is not None and row.wrapped is None and row.party_index is None
        assert vault.key_for_party(session, GB) != gb
        assert vault.shred(session, "eori:GB000000000001") == 0
    # A process that still holds the key in its cache stops using it once the entry expires; a cold
    # process reads ERASED at once.
    other.close()
    cold = build_crypto_service(key_settings)
    try:
        with transaction(session_factory) as session:
            assert cold.open(session, gb, ref(), gb_blob) is ERASED
    finally:
        cold.close()


def test_rolled_back_key_never_leaks_into_another_party(
    vault: CryptoService, key_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with pytest.raises(RuntimeError), transaction(session_factory) as session:
        vault.key_for_party(session, GB)
        raise RuntimeError("lodging failed later in the transaction")
    with transaction(session_factory) as session:
        assert session.execute(select(DataKey.id)).first() is None
        fr = vault.key_for_party(session, FR)  # SQLite may hand out the rolled-back id again
        blob = vault.seal(session, fr, ref(), "Jean Dupont")
    cold = build_crypto_service(key_settings)
    try:
        with transaction(session_factory) as session:
            assert cold.open(session, fr, ref(), blob) == "Jean Dupont"
            assert vault.open(session, fr, ref(), blob) == "Jean Dupont"
    finally:
        cold.close()


def test_blind_index_stable_across_processes(vault: CryptoService, key_settings: Settings) -> None:
    other = build_crypto_service(key_settings)
    try:
        assert vault.blind_index("eori", "gb123456789000") == other.blind_index("eori", "GB123456789000")
        assert vault.blind_index("name", "Jörg Müller") == other.blind_index("name", "JORG MULLER")
    finally:
        other.close()


def test_key_from_rolled_back_savepoint_never_reaches_the_cache(
    vault: CryptoService, key_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    """lodge_many's pattern: one transaction per batch, a savepoint per declaration. A bad declaration's
    savepoint rolls back after its party key was created; the batch commits. SQLite then gives the freed
    id to the next key, made here by another process: this process must not use a stale key for it."""
    with transaction(session_factory) as session:
        bad = session.begin_nested()
        rolled_back_id = vault.key_for_party(session, GB)
        vault.seal(session, rolled_back_id, ref(), "never stored")
        bad.rollback()
    other = build_crypto_service(key_settings)
    try:
        with transaction(session_factory) as session:
            fr = other.key_for_party(session, FR)
            blob = other.seal(session, fr, ref(), "Jean Dupont")
    finally:
        other.close()
    with transaction(session_factory) as session:
        assert session.execute(select(DataKey.party_index)).scalars().all() == [vault.party_index(FR)]
        assert vault.open(session, fr, ref(), blob) == "Jean Dupont"
        if rolled_back_id != fr:  # PostgreSQL does not reuse sequence values
            with pytest.raises(KeyUnavailable, match="does not exist"):
                vault.open(session, rolled_back_id, ref(), blob)


def test_released_savepoint_then_outer_rollback_leaves_nothing(
    vault: CryptoService, key_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with pytest.raises(RuntimeError), transaction(session_factory) as session:
        with session.begin_nested():
            key_id = vault.key_for_party(session, GB)
            blob = vault.seal(session, key_id, ref(), "Jane Doe")
        raise RuntimeError("the batch fails after the declaration's savepoint was released")
    with transaction(session_factory) as session:
        assert session.execute(select(DataKey.id)).first() is None
        with pytest.raises(KeyUnavailable, match="does not exist"):
            vault.open(session, key_id, ref(), blob)


def test_key_shredded_in_the_transaction_that_made_it(
    vault: CryptoService, key_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as session:
        key_id = vault.key_for_party(session, GB)
        blob = vault.seal(session, key_id, ref(), "Jane Doe")
        assert vault.shred(session, GB) == 1
        assert vault.open(session, key_id, ref(), blob) is ERASED
        assert vault.key_for_party(session, GB) != key_id
    cold = build_crypto_service(key_settings)
    try:
        with transaction(session_factory) as session:
            assert cold.open(session, key_id, ref(), blob) is ERASED
    finally:
        cold.close()


def test_party_with_two_keys_from_a_race_reads_both_and_shreds_both(
    vault: CryptoService, key_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    """Two transactions that both found no key for a new party each make one (PostgreSQL allows this;
    SQLite serialises writers). The outcome is made directly here: both keys work, the oldest is used
    from then on, and shredding the party destroys both."""
    with transaction(session_factory) as session:
        a = vault.key_for_party(session, GB)
        blob_a = vault.seal(session, a, ref(record="A"), "from A")
    other = build_crypto_service(key_settings)
    try:
        with transaction(session_factory) as session:
            b = other._create_key(session, other.party_index(GB), session.get_transaction())  # type: ignore[arg-type]
            blob_b = other.seal(session, b, ref(record="B"), "from B")
    finally:
        other.close()
    with transaction(session_factory) as session:
        assert vault.open(session, a, ref(record="A"), blob_a) == "from A"
        assert vault.open(session, b, ref(record="B"), blob_b) == "from B"
        assert vault.key_for_party(session, GB) == a
    with transaction(session_factory) as session:
        assert vault.shred(session, GB) == 2
    fresh = build_crypto_service(key_settings)
    try:
        with transaction(session_factory) as session:
            assert fresh.open(session, a, ref(record="A"), blob_a) is ERASED
            assert fresh.open(session, b, ref(record="B"), blob_b) is ERASED
    finally:
        fresh.close()


@pytest.mark.parametrize(
    "where", [FieldRef("", "", "", 0), FieldRef("t", "r1", "f", 11), FieldRef("déclarations", "r:1", "/a~1b", 2)]
)
def test_blob_format_is_the_documented_one(
    vault: CryptoService, session_factory: sessionmaker[Session], where: FieldRef
) -> None:
    """The service's inlined associated data equals envelope.field_aad, so blobs open with the pure core."""
    from clearguard.crypto import envelope

    with transaction(session_factory) as session:
        key_id = vault.key_for_party(session, GB)
        vault.seal(session, key_id, ref(), "warm the prefix memo with another record")
        blob = vault.seal(session, key_id, where, "ünïcode value")
        aead = vault._cipher(session, key_id)
        assert aead is not None
        aad = envelope.field_aad(where.table, where.record_id, where.field, where.version)
        assert envelope.open_field(aead, aad, blob).decode() == "ünïcode value"
        assert vault.open(session, key_id, where, blob) == "ünïcode value"


def test_shred_by_another_process_takes_effect_here_at_once(
    vault: CryptoService, key_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    """This process holds the party's key in memory; another process shreds it. The next transaction
    here sees the shred epoch move: the old values read as erased and the party gets a new key, with no
    wait for the cache to expire (it was 300 s)."""
    with transaction(session_factory) as session:
        old = vault.key_for_party(session, GB)
        sealed = vault.seal(session, old, ref(), "Jane Doe")
    with transaction(session_factory) as session:
        assert vault.key_for_party(session, GB) == old  # from memory now
        assert vault.open(session, old, ref(), sealed) == "Jane Doe"
    other = build_crypto_service(key_settings)
    try:
        with transaction(session_factory) as session:
            assert other.shred(session, GB) == 1
    finally:
        other.close()
    with transaction(session_factory) as session:
        assert vault.open(session, old, ref(), sealed) is ERASED
        new = vault.key_for_party(session, GB)
        blob = vault.seal(session, new, ref(), "Jane Doe")
    assert new != old
    with transaction(session_factory) as session:
        assert vault.open(session, new, ref(), blob) == "Jane Doe"


def test_rolled_back_shred_destroys_nothing(
    vault: CryptoService, key_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as session:
        key_id = vault.key_for_party(session, GB)
        blob = vault.seal(session, key_id, ref(), "Jane Doe")
    with pytest.raises(RuntimeError), transaction(session_factory) as session:
        assert vault.shred(session, GB) == 1
        raise RuntimeError("the disposal record could not be written")
    cold = build_crypto_service(key_settings)
    try:
        with transaction(session_factory) as session:
            assert cold.open(session, key_id, ref(), blob) == "Jane Doe"
            assert vault.open(session, key_id, ref(), blob) == "Jane Doe"
    finally:
        cold.close()


class _Refusing:
    """A shred listener that fails, as a capability whose index clearing hits an error would."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def party_shredded(self, session: Session, party_ref: str) -> None:
        self.calls.append(party_ref)
        raise RuntimeError("index clearing failed")


def test_shred_and_its_listeners_commit_together(vault: CryptoService, session_factory: sessionmaker[Session]) -> None:
    """Item 6: the listeners run in the shred's transaction; one that fails rolls the shred back, so a
    party is never left erased but findable (or findable-cleared but readable)."""
    with transaction(session_factory) as session:
        key_id = vault.key_for_party(session, GB)
        blob = vault.seal(session, key_id, ref(), "Jane Doe")
    listener = _Refusing()
    vault.add_shred_listener(listener)
    with pytest.raises(RuntimeError, match="index clearing failed"), transaction(session_factory) as session:
        vault.shred(session, GB)
    assert listener.calls == [GB]
    with transaction(session_factory) as session:
        assert vault.open(session, key_id, ref(), blob) == "Jane Doe"
        assert session.execute(select(DataKey.wrapped).where(DataKey.id == key_id)).scalar_one() is not None


def test_finish_shreds_after_a_crash_between_commit_and_share_destruction(
    vault: CryptoService, key_settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as session:
        key_id = vault.key_for_party(session, GB)
    with transaction(session_factory) as session:  # new keys are written when their transaction commits
        uid = session.execute(select(DataKey.uid).where(DataKey.id == key_id)).scalar_one()
    with transaction(session_factory) as session:  # what a committed shred leaves if the process dies
        session.execute(update(DataKey).where(DataKey.id == key_id).values(wrapped=None, party_index=None))
    assert vault.shares.present([uid]) == {uid}
    assert vault.finish_shreds(session_factory) == 1
    assert vault.shares.present([uid]) == set()
    assert vault.finish_shreds(session_factory) == 0


@pytest.mark.parametrize("driver_sql", [True, False], ids=["driver-cursor", "sqlalchemy"])
def test_keys_for_parties_matches_key_for_party_in_one_query(
    vault: CryptoService,
    key_settings: Settings,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    driver_sql: bool,
) -> None:
    """The batch form: same keys, same order, spellings of one party resolved once, and the parties
    unknown to the process looked up with one query for all of them (on the driver's cursor, or through
    SQLAlchemy for a placeholder style it does not know)."""
    from clearguard.crypto import service as service_module

    if not driver_sql:
        monkeypatch.setattr(service_module, "_PLACEHOLDERS", {})
    with transaction(session_factory) as session:
        gb = vault.key_for_party(session, GB)
    other = build_crypto_service(key_settings)  # a cold process: knows no party
    lookups: list[list[str]] = []
    key_rows = other._key_rows

    def counted(conn: object, indexes: list[str]) -> object:
        lookups.append(indexes)
        return key_rows(conn, indexes)  # type: ignore[arg-type]

    monkeypatch.setattr(other, "_key_rows", counted)
    try:
        with transaction(session_factory) as session:
            ids = other.keys_for_parties(session, [GB, FR, "EORI:gb123456789000", FR, "person:x"])
            assert len(lookups) == 1 and len(lookups[0]) == 3
            assert ids[0] == gb and ids[2] == gb and ids[1] == ids[3]
            assert len({gb, ids[1], ids[4]}) == 3
            assert other.keys_for_parties(session, [FR, GB]) == [ids[1], gb]
            assert other.key_for_party(session, "person:x") == ids[4]
            assert len(lookups) == 1
            blob = other.seal(session, ids[1], ref(), "Jean Dupont")
        with transaction(session_factory) as session:
            assert vault.key_for_party(session, FR) == ids[1]
            assert vault.open(session, ids[1], ref(), blob) == "Jean Dupont"
    finally:
        other.close()


def test_new_key_share_is_durable_before_commit_and_goes_with_a_shred_in_the_same_transaction(
    vault: CryptoService, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as session:
        kept = vault.key_for_party(session, GB)
        dropped = vault.key_for_party(session, FR)
        uids = {key_id: key.row["uid"] for key_id, key in vault._tx(session).new.items()}
        assert vault.shares.present(list(uids.values())) == set(uids.values())  # before the rows commit
        assert vault.shred(session, FR) == 1
    assert vault.shares.present(list(uids.values())) == {uids[kept]}
    with transaction(session_factory) as session:
        rows = dict(session.execute(select(DataKey.id, DataKey.uid)).tuples().all())
        assert rows == {kept: uids[kept], dropped: uids[dropped]}
        assert session.get(DataKey, dropped).wrapped is None  # type: ignore[union-attr]


def test_a_batch_seals_and_opens_under_several_keys_as_one_by_one_would(
    vault: CryptoService, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as session:
        gb, fr = vault.key_for_party(session, GB), vault.key_for_party(session, FR)
        items = [(gb, ref(field="seller.name"), "Jane Doe"), (fr, ref(field="buyer.name"), "Jean Dupont"),
                 (gb, ref(field="salt"), "00" * 32)]  # fmt: skip
        blobs = vault.seal_many(session, items)
        assert len({blob[1:13] for blob in blobs}) == 3  # a nonce of its own for each value
        assert vault.open_many(session, [(k, r, b) for (k, r, _t), b in zip(items, blobs, strict=True)]) == [
            "Jane Doe", "Jean Dupont", "00" * 32]  # fmt: skip
        # Each blob is bound to its own field: the batch is no looser than single calls.
        assert vault.open(session, fr, ref(field="buyer.name"), blobs[1]) == "Jean Dupont"
        with pytest.raises(DecryptionFailed, match=r"declarations\.seller\.name of record"):
            good, moved = (fr, ref(field="buyer.name"), blobs[1]), (gb, ref(field="seller.name"), blobs[2])
            vault.open_many(session, [good, moved])
        assert vault.seal_many(session, []) == [] and vault.open_many(session, []) == []


def test_a_batch_reads_only_the_shredded_party_as_erased(
    vault: CryptoService, session_factory: sessionmaker[Session]
) -> None:
    with transaction(session_factory) as session:
        gb, fr = vault.key_for_party(session, GB), vault.key_for_party(session, FR)
        gb_blob, fr_blob = vault.seal_many(session, [(gb, ref(), "Jane Doe"), (fr, ref(record="r2"), "Jean Dupont")])
    with transaction(session_factory) as session:
        vault.shred(session, GB)
    with transaction(session_factory) as session:
        assert vault.open_many(session, [(gb, ref(), gb_blob), (fr, ref(record="r2"), fr_blob)]) == [
            ERASED, "Jean Dupont"]  # fmt: skip
        with pytest.raises(KeyUnavailable, match="shredded"):
            vault.seal_many(session, [(fr, ref(), "fine"), (gb, ref(), "again")])


def test_a_batch_across_records_and_versions_uses_the_documented_associated_data(
    vault: CryptoService, session_factory: sessionmaker[Session]
) -> None:
    from clearguard.crypto import envelope

    wheres = [ref(field="f", version=1), ref(field="f", version=2), ref(record="r2", field="f", version=2),
              FieldRef("other", "r2", "f", 2), ref(field="g", version=1)]  # fmt: skip
    with transaction(session_factory) as session:
        key_id = vault.key_for_party(session, GB)
        blobs = vault.seal_many(session, [(key_id, where, f"value {n}") for n, where in enumerate(wheres)])
        aead = vault._cipher(session, key_id)
        assert aead is not None
        for n, (where, blob) in enumerate(zip(wheres, blobs, strict=True)):
            aad = envelope.field_aad(where.table, where.record_id, where.field, where.version)
            assert envelope.open_field(aead, aad, blob).decode() == f"value {n}"
        assert vault.open_many(session, [(key_id, w, b) for w, b in zip(wheres, blobs, strict=True)]) == [
            f"value {n}" for n in range(len(wheres))
        ]
        # Blobs swapped between two versions of one field fail: each version is bound in.
        with pytest.raises(DecryptionFailed):
            vault.open_many(session, [(key_id, wheres[0], blobs[1])])
