"""Failed-login counters: in the database by default, in Redis (through `limits`) when configured,
so that several API workers share them. Both apply the same ThrottlePolicy.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from clearguard.identity.clock import Clock
from clearguard.identity.tables import LoginFailures
from clearguard.identity.throttle_policy import ThrottlePolicy


class Throttle(Protocol):
    def retry_after(self, key: str, policy: ThrottlePolicy) -> int:
        """Seconds the key must still wait (0: an attempt is allowed now)."""
        ...

    def record_failure(self, key: str, policy: ThrottlePolicy) -> None: ...

    def reset(self, key: str) -> None: ...


class DatabaseThrottle:
    """Counters in `identity_login_failures`, written in their own short transactions so that a
    failed login's rollback never loses the failure it must count."""

    def __init__(self, factory: sessionmaker[Session], clock: Clock) -> None:
        self._factory = factory
        self._clock = clock

    def _row(self, session: Session, key: str) -> LoginFailures | None:
        return session.scalars(select(LoginFailures).where(LoginFailures.key == key)).one_or_none()

    def retry_after(self, key: str, policy: ThrottlePolicy) -> int:
        now = self._clock.now()
        with self._factory() as session:
            row = self._row(session, key)
            if row is None or row.blocked_until is None:
                return 0
            return max(0, math.ceil((row.blocked_until - now).total_seconds()))

    def record_failure(self, key: str, policy: ThrottlePolicy) -> None:
        try:
            self._record_failure(key, policy)
        except IntegrityError:
            # Two workers created the same key's row at once; the row exists now, so count again.
            self._record_failure(key, policy)

    def _record_failure(self, key: str, policy: ThrottlePolicy) -> None:
        now = self._clock.now()
        with self._factory() as session, session.begin():
            row = self._row(session, key)
            if row is None:
                row = LoginFailures(key=key, failures=0, window_start=now)
                session.add(row)
            elif now - row.window_start >= timedelta(seconds=policy.lock_seconds):
                # Window over (and with it any lock): count afresh.
                row.failures, row.window_start, row.blocked_until = 0, now, None
            row.failures += 1
            wait = policy.wait_after(row.failures)
            row.blocked_until = now + timedelta(seconds=wait) if wait else None
            if wait >= policy.lock_seconds:
                # The lock must outlast the window, so restart the window at the locking failure.
                row.window_start = now

    def reset(self, key: str) -> None:
        with self._factory() as session, session.begin():
            row = self._row(session, key)
            if row is not None:
                session.delete(row)


class RedisThrottle:
    """Counters in Redis through the `limits` storage: a failure counter whose window starts at the
    first failure, and a block key whose expiry is the wait. Redis's own clock drives expiry."""

    def __init__(self, redis_url: str, *, prefix: str = "clearguard:auth") -> None:
        from limits.storage import Storage, storage_from_string

        # A redis:// URL gives the synchronous RedisStorage (async ones need an async+ scheme).
        self._storage = cast(Storage, storage_from_string(redis_url))
        self._prefix = prefix
        self._now: Callable[[], float] = time.time

    def _keys(self, key: str) -> tuple[str, str]:
        return f"{self._prefix}:fail:{key}", f"{self._prefix}:block:{key}"

    def retry_after(self, key: str, policy: ThrottlePolicy) -> int:
        _, block_key = self._keys(key)
        if int(self._storage.get(block_key)) <= 0:
            return 0
        return max(1, math.ceil(float(self._storage.get_expiry(block_key)) - self._now()))

    def record_failure(self, key: str, policy: ThrottlePolicy) -> None:
        fail_key, block_key = self._keys(key)
        failures = int(self._storage.incr(fail_key, policy.lock_seconds))
        wait = policy.wait_after(failures)
        if wait:
            self._storage.clear(block_key)
            self._storage.incr(block_key, wait)
        if wait >= policy.lock_seconds:
            # Start the count afresh once the lock ends (never a permanent lock).
            self._storage.clear(fail_key)

    def reset(self, key: str) -> None:
        fail_key, block_key = self._keys(key)
        self._storage.clear(fail_key)
        self._storage.clear(block_key)
