"""A deadlock is retried, never a 500 (issue 13, item 18): two transactions that lock two rows in
opposite orders. PostgreSQL aborts one of them (40P01) and in_transaction runs it again; SQLite
serialises them (BEGIN IMMEDIATE), so there both simply succeed."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from clearguard.identity.retrying import in_transaction
from clearguard.identity.tables import LoginFailures


def test_a_deadlock_is_retried(session_factory: sessionmaker[Session]) -> None:
    now = datetime.now(UTC)
    with session_factory() as session, session.begin():
        session.add_all(LoginFailures(key=k, failures=0, window_start=now) for k in ("a", "b"))
    barrier = threading.Barrier(2)
    runs: list[str] = []
    errors: list[BaseException] = []

    def bump(session: Session, key: str) -> None:
        session.execute(
            update(LoginFailures).where(LoginFailures.key == key).values(failures=LoginFailures.failures + 1)
        )
        session.flush()

    def worker(first: str, second: str) -> None:
        def work(session: Session) -> None:
            runs.append(first)
            bump(session, first)
            # Both hold their first row, then each waits for the other's. On SQLite the other
            # transaction is queued behind this one, so the barrier breaks and this one goes on.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=3)
            bump(session, second)

        try:
            in_transaction(session_factory, work)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=pair) for pair in (("a", "b"), ("b", "a"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with session_factory() as session:
        counts = {row.key: row.failures for row in session.query(LoginFailures)}
    assert counts == {"a": 2, "b": 2}  # each transaction's work applied exactly once
    dialect = session_factory.kw["bind"].dialect.name
    assert len(runs) == (3 if dialect == "postgresql" else 2), runs  # one run aborted and retried on PostgreSQL
