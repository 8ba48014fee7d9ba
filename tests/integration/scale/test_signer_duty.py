"""Of several integrators sharing a database (one per API worker), only the holder of the ledger-signer
duty signs; the others' lodgings get their receipts from the holder's checkpoints; when the holder stops,
another takes over, and the checkpoint history stays one consistent tree. SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from clearguard.duties import DutyLock
from clearguard.ledger import verify_consistency
from clearguard.ledger.errors import NotIntegrated
from clearguard.ledger.note import Ed25519Signer
from clearguard.ledger.service import BatchIntegrator, LedgerService
from clearguard.ledger.store import checkpoints


def _until(predicate: Callable[[], bool], what: str, attempts: int = 500) -> None:
    for _ in range(attempts):
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


def _worker(
    engine: Engine, factory: sessionmaker[Session], signer: Ed25519Signer, var_dir: Path, name: str, log: list[bool]
) -> tuple[LedgerService, BatchIntegrator]:
    ledger = LedgerService(signer, batch_size=500, entry_check=None)
    ledger.receipt_wait_s = 30
    integrator = BatchIntegrator(
        ledger,
        factory,
        interval_ms=20,
        duty=DutyLock(engine, name, var_dir=var_dir),
        duty_retry_s=0.05,
        on_duty=log.append,
    )
    return ledger, integrator


def test_one_worker_signs_the_others_wait_for_it_and_one_takes_over(
    engine: Engine, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    signer = Ed25519Signer("test.clearguard/ledger", Ed25519PrivateKey.generate())
    name = f"ledger-signer-{uuid.uuid4().hex[:8]}"
    first_log: list[bool] = []
    second_log: list[bool] = []
    first, first_integrator = _worker(engine, session_factory, signer, tmp_path, name, first_log)
    second, second_integrator = _worker(engine, session_factory, signer, tmp_path, name, second_log)
    first_integrator.start()
    try:
        _until(lambda: first_integrator.signs, "the first worker takes the duty")
        second_integrator.start()
        with session_factory() as session, session.begin():
            index = second.append(session, b"lodged through the second worker")
        # The second worker does not sign: its receipt is the first worker's checkpoint.
        receipt = second.receipt_now(session_factory, index)
        assert receipt.entry == b"lodged through the second worker"
        assert second.check_receipt(receipt).checkpoint.size >= index + 1
        assert second.signed_count == 0 and first.signed_count >= 1
        assert not second_integrator.signs
        assert second_log == [] and first_log == [True]
    finally:
        first_integrator.stop()
    try:
        assert first_log == [True, False]
        _until(lambda: second_integrator.signs, "the second worker takes over from the stopped holder")
        with session_factory() as session, session.begin():
            later = second.append(session, b"after the takeover")
        receipt = second.receipt_now(session_factory, later)
        assert second.check_receipt(receipt).checkpoint.size >= later + 1
        assert second.signed_count >= 1
        assert second_log == [True]
    finally:
        second_integrator.stop()
    assert second_log == [True, False]
    with session_factory() as session:
        history = checkpoints(session)
        sizes = [row.size for row in history]
        assert sizes == sorted(set(sizes)) and sizes[-1] == 2
        for older, newer in itertools.pairwise(history):
            proof = first.consistency_proof(session, older.size, newer.size)
            verify_consistency(older.size, newer.size, proof, bytes(older.root), bytes(newer.root))


def test_a_receipt_waits_boundedly_when_no_worker_signs(session_factory: sessionmaker[Session]) -> None:
    """A worker that does not sign never signs on the request path either: with no signer alive, the
    receipt is refused as not yet integrated (the lodging itself stands; receipt_url serves it later)."""
    ledger = LedgerService(
        Ed25519Signer("test.clearguard/ledger", Ed25519PrivateKey.generate()), batch_size=500, entry_check=None
    )
    ledger.receipt_wait_s = 0.2
    ledger.delegate_signing(lambda: False)
    with session_factory() as session, session.begin():
        index = ledger.append(session, b"no signer")
    with pytest.raises(NotIntegrated, match="signing worker"):
        ledger.receipt_now(session_factory, index)
    assert ledger.signed_count == 0
    ledger.delegate_signing(None)  # a lone process signs for itself
    assert ledger.receipt_now(session_factory, index).entry == b"no signer"
