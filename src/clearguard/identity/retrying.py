"""One unit of work, run again when the database aborted it to break a deadlock or a serialisation
conflict (PostgreSQL SQLSTATE 40P01, 40001): the client gets the outcome, never a 500.

The identity flows take their row locks in one order (MFA challenge, then account, then session), so
deadlocks should not arise among them; other writers (the audit ledger, administrators) may still
meet them, and the database's answer to a deadlock is to abort one party, which is retried here.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 5


def is_retryable(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def in_transaction(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """`work` in a transaction that commits when it returns; re-run from scratch after a deadlock."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with factory() as session, session.begin():
                return work(session)
        except DBAPIError as exc:
            if attempt == ATTEMPTS or not is_retryable(exc):
                raise
            # A few milliseconds, jittered, so the two parties do not meet again in step.
            time.sleep(random.uniform(0.001, 0.01) * attempt)  # jitter, not a secret  # nosec B311
    raise AssertionError("unreachable")
