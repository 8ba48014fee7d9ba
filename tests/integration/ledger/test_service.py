"""LedgerService on SQLite and PostgreSQL: sequencing, integration, proofs, receipts, tiles."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from clearguard.ledger import MemoryTree, ProofError, verify_consistency, verify_inclusion
from clearguard.ledger.commitment import commit_entry
from clearguard.ledger.errors import EntryError, NotIntegrated
from clearguard.ledger.hashing import leaf_hash
from clearguard.ledger.note import Ed25519Signer
from clearguard.ledger.service import LedgerService
from clearguard.ledger.tiles import TileRef, decode_bundle, tiles_for_size


def _append(factory: sessionmaker[Session], ledger: LedgerService, entries: list[bytes]) -> list[int]:
    with factory() as session, session.begin():
        return [ledger.append(session, e) for e in entries]


def test_append_integrate_prove(session_factory: sessionmaker[Session], ledger: LedgerService) -> None:
    entries = [f"entry-{i}".encode() for i in range(1300)]
    assert _append(session_factory, ledger, entries[:700]) == list(range(700))
    with session_factory() as session, session.begin():
        assert ledger.pending(session) == 700
        first = ledger.integrate(session)  # batch_size 500
    assert first is not None and first.checkpoint.size == 500
    _append(session_factory, ledger, entries[700:])
    last = ledger.integrate_all(session_factory)
    assert last is not None and last.checkpoint.size == 1300
    tree = MemoryTree(leaf_hash(e) for e in entries)
    assert last.checkpoint.root == tree.root()
    with session_factory() as session:
        assert ledger.pending(session) == 0
        for index in (0, 255, 256, 511, 1299):
            proof = ledger.inclusion_proof(session, index, 1300)
            assert proof == tree.inclusion_proof(index)
            verify_inclusion(leaf_hash(entries[index]), index, 1300, proof, last.checkpoint.root)
        proof = ledger.consistency_proof(session, 500, 1300)
        verify_consistency(500, 1300, proof, first.checkpoint.root, last.checkpoint.root)
        with pytest.raises(ProofError):
            ledger.inclusion_proof(session, 0, 1301)
        receipt = ledger.receipt(session, 777)
        assert ledger.check_receipt(receipt).checkpoint.size == 1300
        # Tiles served equal the in-memory tree's levels, including partial tiles and prefixes.
        for ref in tiles_for_size(1300):
            assert ref.level is not None
            data = ledger.read_tile(session, ref)
            assert data == b"".join(tree.node(8 * ref.level, ref.index * 256 + i) for i in range(ref.width))
        assert ledger.read_tile(session, TileRef(0, 5, 3)) == b"".join(tree.node(0, 1280 + i) for i in range(3))
        assert ledger.read_tile(session, TileRef(0, 5, 21)) is None
        assert ledger.read_tile(session, TileRef(0, 6, 1)) is None
        assert decode_bundle(ledger.read_tile(session, TileRef(None, 2, 256)) or b"") == entries[512:768]


def test_receipt_before_integration_refused(session_factory: sessionmaker[Session], ledger: LedgerService) -> None:
    _append(session_factory, ledger, [b"a"])
    with session_factory() as session, pytest.raises(NotIntegrated):
        ledger.receipt(session, 0)


def test_rolled_back_writer_leaves_no_gap(session_factory: sessionmaker[Session], ledger: LedgerService) -> None:
    _append(session_factory, ledger, [b"a"])
    with pytest.raises(RuntimeError), session_factory() as session, session.begin():
        ledger.append(session, b"doomed")
        raise RuntimeError("the writer's own work failed")
    assert _append(session_factory, ledger, [b"b"]) == [1]


def test_concurrent_writers_no_gaps_no_duplicates(
    session_factory: sessionmaker[Session], ledger: LedgerService
) -> None:
    results: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(25):
                got = _append(session_factory, ledger, [f"w{n}-{i}".encode()])
                with lock:
                    results.extend(got)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == list(range(150))
    signed = ledger.integrate_all(session_factory)
    assert signed is not None and signed.checkpoint.size == 150


def test_crash_between_sequencing_and_integration_loses_nothing(
    engine: Engine, session_factory: sessionmaker[Session], ledger: LedgerService
) -> None:
    _append(session_factory, ledger, [b"x", b"y", b"z"])
    # The process dies before integrating: a new engine (a restarted process) finds the entries.
    engine.dispose()
    signed = ledger.integrate_all(session_factory)
    assert signed is not None and signed.checkpoint.size == 3
    with session_factory() as session:
        assert session.execute(text("select count(*) from ledger_checkpoints")).scalar() == 1


def test_integration_crash_rolls_back_whole_batch(
    session_factory: sessionmaker[Session], ledger: LedgerService
) -> None:
    _append(session_factory, ledger, [b"p", b"q"])
    with pytest.raises(RuntimeError), session_factory() as session, session.begin():
        ledger.integrate(session)
        raise RuntimeError("killed after hashing, before commit")
    with session_factory() as session:
        assert ledger.pending(session) == 2
        assert ledger.latest(session) is None
    signed = ledger.integrate_all(session_factory)
    assert signed is not None and signed.checkpoint.size == 2


def test_receipt_now_and_background_integrator(session_factory: sessionmaker[Session], ledger: LedgerService) -> None:
    from clearguard.ledger.service import BatchIntegrator

    (index,) = _append(session_factory, ledger, [b"lodged"])
    receipt = ledger.receipt_now(session_factory, index)
    assert receipt.entry == b"lodged" and ledger.check_receipt(receipt).checkpoint.size == 1
    integrator = BatchIntegrator(ledger, session_factory, interval_ms=20)
    integrator.start()
    try:
        _append(session_factory, ledger, [b"a", b"b"])
        integrator.notify()
        deadline = time.monotonic() + 10
        while True:
            with session_factory() as session:
                latest = ledger.latest(session)
            if latest is not None and latest.checkpoint.size == 3:
                break
            assert time.monotonic() < deadline, integrator.last_error
            time.sleep(0.02)
    finally:
        integrator.stop()


def test_strict_ledger_accepts_only_commitment_entries(
    session_factory: sessionmaker[Session], signer: Ed25519Signer
) -> None:
    strict = LedgerService(signer)
    with session_factory() as session, session.begin():
        with pytest.raises(EntryError):
            strict.append(session, b"Jane Doe, 1 High Street")
        with pytest.raises(EntryError):
            strict.append_many(session, [commit_entry("k", "r1", b"x", b"s" * 32), b"free text"])
        assert strict.append(session, commit_entry("k", "r1", b"x", b"s" * 32)) == 0


def test_concurrent_integrators_sign_one_history(session_factory: sessionmaker[Session], ledger: LedgerService) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(10):
                _append(session_factory, ledger, [f"{n}-{i}".encode()] * 7)
                ledger.integrate_all(session_factory)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with session_factory() as session:
        report = ledger.verify(session)
        assert report.ok, report.problems
        assert report.size == 280
        sizes = [int(s) for (s,) in session.execute(text("select size from ledger_checkpoints order by size"))]
        assert sizes == sorted(set(sizes)) and sizes[-1] == 280
