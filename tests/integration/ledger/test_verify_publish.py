"""Verification from the database and publication to a tiles directory."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from clearguard.ledger import TileError
from clearguard.ledger.commitment import commit_entry
from clearguard.ledger.service import LedgerService
from clearguard.ledger.tiles_dir import publish, verify_tiles_dir

SALT = b"\x11" * 32


def _fill(factory: sessionmaker[Session], ledger: LedgerService, n: int, batches: int = 3) -> list[bytes]:
    entries = [commit_entry("test", f"r{i}", f"payload {i}".encode(), SALT) for i in range(n)]
    step = (n + batches - 1) // batches
    for start in range(0, n, step):
        with factory() as session, session.begin():
            ledger.append_many(session, entries[start : start + step])
            ledger.integrate(session)
    return entries


def test_clean_log_verifies(session_factory: sessionmaker[Session], ledger: LedgerService) -> None:
    _fill(session_factory, ledger, 700)
    seen: list[tuple[int, int]] = []
    with session_factory() as session:
        report = ledger.verify(session, lambda done, total: seen.append((done, total)))
    assert report.ok, report.problems
    assert report.size == 700 and report.checkpoints == 3
    assert seen[-1] == (700, 700)


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        ("UPDATE ledger_entries SET data = :other WHERE idx = 400", 400),
        ("DELETE FROM ledger_entries WHERE idx = 123", 123),
    ],
)
@pytest.mark.asvs("V16.4.2")
def test_tampered_entries_named(
    session_factory: sessionmaker[Session], ledger: LedgerService, sql: str, index: int
) -> None:
    _fill(session_factory, ledger, 700)
    with session_factory() as session, session.begin():
        session.execute(text(sql), {"other": commit_entry("test", "r400", b"forged", SALT)} if ":other" in sql else {})
    with session_factory() as session:
        report = ledger.verify(session)
    assert not report.ok
    assert report.first_divergent_index == index


def test_reordered_entries_named(session_factory: sessionmaker[Session], ledger: LedgerService) -> None:
    entries = _fill(session_factory, ledger, 300)
    with session_factory() as session, session.begin():
        session.execute(text("UPDATE ledger_entries SET data = :d WHERE idx = 17"), {"d": entries[18]})
        session.execute(text("UPDATE ledger_entries SET data = :d WHERE idx = 18"), {"d": entries[17]})
    with session_factory() as session:
        assert ledger.verify(session).first_divergent_index == 17


@pytest.mark.asvs("V16.4.2")
def test_forged_checkpoint_caught(session_factory: sessionmaker[Session], ledger: LedgerService) -> None:
    _fill(session_factory, ledger, 30)
    with session_factory() as session, session.begin():
        session.execute(text("UPDATE ledger_checkpoints SET note = replace(note, '\n30\n', '\n31\n')"))
    with session_factory() as session:
        report = ledger.verify(session)
    assert not report.ok
    assert any("checkpoint" in str(p) for p in report.problems)


def test_publish_then_verify_offline(
    session_factory: sessionmaker[Session], ledger: LedgerService, tmp_path: Path
) -> None:
    _fill(session_factory, ledger, 1000)
    with session_factory() as session:
        cp = publish(session, tmp_path / "pub")
    assert cp is not None and cp.size == 1000
    assert verify_tiles_dir(tmp_path / "pub", ledger.vkey()).root == cp.root
    # Grow and publish again into the same directory: older partial tiles stay, new ones appear.
    _fill(session_factory, ledger, 10, batches=1)
    with session_factory() as session:
        publish(session, tmp_path / "pub")
    assert verify_tiles_dir(tmp_path / "pub", ledger.vkey()).size == 1010
    shutil.copytree(tmp_path / "pub", tmp_path / "bad")
    bundle = tmp_path / "bad" / "tile" / "entries" / "001"
    data = bytearray(bundle.read_bytes())
    data[-3] ^= 1
    bundle.write_bytes(bytes(data))
    with pytest.raises(TileError, match="entry 511"):
        verify_tiles_dir(tmp_path / "bad", ledger.vkey())


def test_tampered_stored_tile_named(session_factory: sessionmaker[Session], ledger: LedgerService) -> None:
    _fill(session_factory, ledger, 600)
    with session_factory() as session, session.begin():
        data = session.execute(text("SELECT hashes FROM ledger_tiles WHERE level = 0 AND tile_index = 1")).scalar()
        forged = bytes(data[: 32 * 7]) + bytes(32) + bytes(data[32 * 8 :])
        session.execute(text("UPDATE ledger_tiles SET hashes = :h WHERE level = 0 AND tile_index = 1"), {"h": forged})
    with session_factory() as session:
        report = ledger.verify(session)
    assert report.first_divergent_index == 256 + 7


def test_verification_beside_a_live_integrator_sees_one_snapshot(
    session_factory: sessionmaker[Session], ledger: LedgerService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the crash test on PostgreSQL: `ledger verify` beside a running server read the tree's
    size, then the tiles after the server had integrated more entries into the partial tile, and
    named entry 256 as tampered. Here the server's integration lands exactly between those reads."""
    from clearguard.ledger import store

    _fill(session_factory, ledger, 300, batches=1)  # a partial second tile (entries 256..299)
    more = [commit_entry("test", f"late{i}", f"payload {i}".encode(), SALT) for i in range(20)]
    real_iter_tiles = store.iter_tiles
    landed: list[int] = []

    def integrate_more() -> None:
        with session_factory() as other, other.begin():
            ledger.append_many(other, more)
            ledger.integrate(other)

    def iter_tiles_after_an_integration(session: Session):  # type: ignore[no-untyped-def]
        if not landed:
            if session.get_bind().dialect.name == "sqlite":
                # SQLite: the verification's transaction holds the database's write lock, so the log
                # cannot change under it at all (the writer is refused once its busy wait is over).
                with pytest.raises(OperationalError, match="locked"):
                    integrate_more()
            else:
                integrate_more()
            landed.append(1)
        return real_iter_tiles(session)

    monkeypatch.setattr(store, "iter_tiles", iter_tiles_after_an_integration)
    with session_factory() as session:
        report = ledger.verify(session)
    assert landed and report.ok, report.problems
    assert report.size == 300  # the snapshot taken when verification began
    monkeypatch.setattr(store, "iter_tiles", real_iter_tiles)
    with session_factory() as session:
        if session.get_bind().dialect.name == "sqlite":
            integrate_more()
    with session_factory() as session:
        after = ledger.verify(session)
    assert after.ok and after.size == 320
