"""Failed-login counters: in the database by default, in Redis when configured (so that several API
workers share them). Both apply the same ThrottlePolicy with the same semantics.

An attempt is reserved before the secret is checked: the counter is incremented and the wait the new
count calls for is set in one atomic step (a conditional UPDATE under the row lock, or one Lua script
on the Redis server), and only if no wait is running. Of any number of concurrent attempts, no more
get through than the policy allows. An attempt that then succeeds is refunded: its count is taken
back and the wait it set (if still the running one) is lifted; the wait before it had run out already,
or the attempt would not have been admitted.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from clearguard.identity.clock import Clock
from clearguard.identity.tables import LoginFailures
from clearguard.identity.throttle_policy import ThrottlePolicy


@dataclass(frozen=True, slots=True)
class Attempt:
    """One reserved attempt (`retry_after` 0), or a refusal (`retry_after` seconds still to wait)."""

    key: str
    retry_after: int
    # The wait this attempt set, so that a refund lifts that one and never a later one.
    mark: str | None = None


class Throttle(Protocol):
    def attempt(self, key: str, policy: ThrottlePolicy) -> Attempt:
        """Reserve one attempt, counted as a failure until refunded; or refuse it while a wait runs."""
        ...

    def refund(self, attempt: Attempt) -> None:
        """The reserved attempt succeeded: take its count back and lift the wait it set."""
        ...

    def count_failure(self, key: str, policy: ThrottlePolicy) -> int:
        """Count one failure without gating anything; the count in the window after it."""
        ...

    def penalise(self, key: str, seconds: int) -> None:
        """Make `key` wait at least `seconds` from now."""
        ...

    def retry_after(self, key: str) -> int:
        """Seconds the key must still wait (0: an attempt is allowed now)."""
        ...

    def reset(self, key: str) -> None: ...


def _seconds_until(until: datetime | None, now: datetime) -> int:
    return 0 if until is None else max(0, math.ceil((until - now).total_seconds()))


class DatabaseThrottle:
    """Counters in `identity_login_failures`, each change in its own short transaction, so that a
    failed login's rollback never loses the failure it must count."""

    def __init__(self, factory: sessionmaker[Session], clock: Clock) -> None:
        self._factory = factory
        self._clock = clock

    @staticmethod
    def _ensure_row(session: Session, key: str, now: datetime) -> None:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(
            insert(LoginFailures)
            .values(key=key, failures=0, window_start=now, blocked_until=None)
            .on_conflict_do_nothing(index_elements=[LoginFailures.key])
        )

    @staticmethod
    def _count(session: Session, key: str, policy: ThrottlePolicy, now: datetime, *, gated: bool) -> int | None:
        """failures + 1 in SQL (afresh when the window is over); None when `gated` and a wait runs."""
        over = LoginFailures.window_start <= now - timedelta(seconds=policy.window_seconds)
        statement = update(LoginFailures).where(LoginFailures.key == key)
        if gated:
            statement = statement.where((LoginFailures.blocked_until.is_(None)) | (LoginFailures.blocked_until <= now))
        row = session.execute(
            statement.values(
                failures=case((over, 1), else_=LoginFailures.failures + 1),
                window_start=case((over, now), else_=LoginFailures.window_start),
            ).returning(LoginFailures.failures)
        ).one_or_none()
        return None if row is None else int(row[0])

    def attempt(self, key: str, policy: ThrottlePolicy) -> Attempt:
        now = self._clock.now()
        with self._factory() as session, session.begin():
            self._ensure_row(session, key, now)
            # The UPDATE holds the row lock to the end of this transaction (BEGIN IMMEDIATE holds
            # SQLite's), so no other attempt on the key sees the count before its wait is set too.
            failures = self._count(session, key, policy, now, gated=True)
            if failures is None:
                until = session.scalar(select(LoginFailures.blocked_until).where(LoginFailures.key == key))
                return Attempt(key, max(1, _seconds_until(until, now)))
            wait = policy.wait_after(failures)
            blocked = now + timedelta(seconds=wait) if wait else None
            values: dict[str, Any] = {"blocked_until": blocked}
            if wait >= policy.lock_seconds:
                # The lock must outlast the window, so restart the window at the locking failure.
                values["window_start"] = now
            session.execute(update(LoginFailures).where(LoginFailures.key == key).values(**values))
            return Attempt(key, 0, blocked.isoformat() if blocked else None)

    def refund(self, attempt: Attempt) -> None:
        with self._factory() as session, session.begin():
            session.execute(
                update(LoginFailures)
                .where(LoginFailures.key == attempt.key, LoginFailures.failures > 0)
                .values(failures=LoginFailures.failures - 1)
            )
            if attempt.mark is not None:
                session.execute(
                    update(LoginFailures)
                    .where(
                        LoginFailures.key == attempt.key,
                        LoginFailures.blocked_until == datetime.fromisoformat(attempt.mark),
                    )
                    .values(blocked_until=None)
                )

    def count_failure(self, key: str, policy: ThrottlePolicy) -> int:
        now = self._clock.now()
        with self._factory() as session, session.begin():
            self._ensure_row(session, key, now)
            return self._count(session, key, policy, now, gated=False) or 0

    def penalise(self, key: str, seconds: int) -> None:
        now = self._clock.now()
        until = now + timedelta(seconds=seconds)
        with self._factory() as session, session.begin():
            self._ensure_row(session, key, now)
            session.execute(
                update(LoginFailures)
                .where(
                    LoginFailures.key == key,
                    (LoginFailures.blocked_until.is_(None)) | (LoginFailures.blocked_until < until),
                )
                .values(blocked_until=until)
            )

    def retry_after(self, key: str) -> int:
        with self._factory() as session:
            until = session.scalar(select(LoginFailures.blocked_until).where(LoginFailures.key == key))
        return _seconds_until(until, self._clock.now())

    def reset(self, key: str) -> None:
        with self._factory() as session, session.begin():
            session.execute(delete(LoginFailures).where(LoginFailures.key == key))


# KEYS: failure counter, wait marker. ARGV: window s, wait past the table, mark, wait_after(1..n).
# Returns the new count (admitted), or minus the milliseconds still to wait (refused).
_ATTEMPT = """
local left = redis.call('PTTL', KEYS[2])
if left > 0 then return -left end
if left == -1 then return -1000 end
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local wait = tonumber(ARGV[n + 3] or ARGV[2])
if wait > 0 then redis.call('SET', KEYS[2], ARGV[3], 'EX', wait) end
if wait >= tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], wait) end
return n
"""
# KEYS: failure counter, wait marker. ARGV: the refunded attempt's mark.
_REFUND = """
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
return 0
"""
# KEYS: failure counter. ARGV: window s.
_COUNT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""
# KEYS: wait marker. ARGV: wait in ms.
_PENALISE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], 'penalty', 'PX', ARGV[1]) end
return 0
"""


class RedisThrottle:
    """Counters in Redis: a failure counter whose window starts at the first failure, and a wait
    marker whose expiry is the wait. Each operation is one Lua script (atomic on the server), and
    Redis's own clock drives expiry."""

    def __init__(self, redis_url: str, *, prefix: str = "clearguard:auth") -> None:
        import redis

        self._redis = redis.Redis.from_url(redis_url)
        self._prefix = prefix
        self._attempt = self._redis.register_script(_ATTEMPT)
        self._refund = self._redis.register_script(_REFUND)
        self._count = self._redis.register_script(_COUNT)
        self._penalise = self._redis.register_script(_PENALISE)

    def _keys(self, key: str) -> list[str]:
        return [f"{self._prefix}:fail:{key}", f"{self._prefix}:block:{key}"]

    def attempt(self, key: str, policy: ThrottlePolicy) -> Attempt:
        waits, beyond = policy.waits()
        mark = secrets.token_hex(8)
        result = int(cast(int, self._attempt(keys=self._keys(key), args=[policy.window_seconds, beyond, mark, *waits])))
        if result < 0:
            return Attempt(key, max(1, math.ceil(-result / 1000)))
        return Attempt(key, 0, mark if policy.wait_after(result) else None)

    def refund(self, attempt: Attempt) -> None:
        self._refund(keys=self._keys(attempt.key), args=[attempt.mark or ""])

    def count_failure(self, key: str, policy: ThrottlePolicy) -> int:
        return int(cast(int, self._count(keys=self._keys(key)[:1], args=[policy.window_seconds])))

    def penalise(self, key: str, seconds: int) -> None:
        self._penalise(keys=self._keys(key)[1:], args=[seconds * 1000])

    def retry_after(self, key: str) -> int:
        left = int(cast(int, self._redis.pttl(self._keys(key)[1])))
        return max(0, math.ceil(left / 1000)) if left != -1 else 1

    def reset(self, key: str) -> None:
        self._redis.delete(*self._keys(key))
