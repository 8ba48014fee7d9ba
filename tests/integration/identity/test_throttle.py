from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy.orm import Session, sessionmaker

from clearguard.identity import totp
from clearguard.identity.errors import InvalidCredentials, TooManyAttempts
from clearguard.identity.throttle import RedisThrottle
from clearguard.identity.throttle_policy import ACCOUNT_POLICY, ThrottlePolicy
from tests.helpers import secret_box
from tests.integration.identity.identity_env import PASSWORD, Env, make_env

REDIS_URL = "redis://127.0.0.1:6379/15"


def fail(env: Env, username: str = "alice", source: str = "10.0.0.9") -> None:
    with pytest.raises(InvalidCredentials):
        env.service.login(username, "wrong-but-long-password", source=source)


def test_policy_grows_then_locks() -> None:
    waits = [ACCOUNT_POLICY.wait_after(n) for n in range(1, 11)]
    assert waits[:2] == [0, 0]
    assert waits[2:9] == [1, 2, 4, 8, 16, 32, 60]
    assert waits[9] == 15 * 60


def test_growing_delays_then_lock_then_unlock(env: Env) -> None:
    env.add_user()
    for _ in range(2):
        fail(env)
    fail(env)  # third failure: 1 s delay
    with pytest.raises(TooManyAttempts) as exc:
        env.service.login("alice", PASSWORD, source="10.0.0.9")
    assert exc.value.retry_after == 1
    for _ in range(7):
        env.clock.advance(61)
        fail(env)
    with pytest.raises(TooManyAttempts) as exc:
        env.service.login("alice", PASSWORD, source="10.0.0.9")
    assert exc.value.retry_after == 900
    # Locked even from another address and with the right password...
    env.clock.advance(899)
    with pytest.raises(TooManyAttempts):
        env.service.login("alice", PASSWORD, source="10.0.0.77")
    # ...but never for longer than the lock: then the right password works and the count restarts.
    env.clock.advance(1)
    assert env.service.login("alice", PASSWORD, source="10.0.0.9").mfa_token
    fail(env)
    env.service.login("alice", PASSWORD, source="10.0.0.9")


def test_unknown_usernames_are_throttled_alike(env: Env) -> None:
    for _ in range(3):
        fail(env, "ghost")
    with pytest.raises(TooManyAttempts):
        env.service.login("ghost", "whatever-long-password", source="10.0.0.9")


def test_complete_login_resets_the_account_count(env: Env) -> None:
    env.add_user()
    step = env.service.login("alice", PASSWORD, source="10.0.0.9")
    secret = env.service.totp_enroll(step.mfa_token, source="10.0.0.9").secret
    env.service.totp_confirm(step.mfa_token, totp.code_at(secret, env.clock.now()), source="10.0.0.9")
    fail(env)
    fail(env)
    env.clock.advance(30)
    step = env.service.login("alice", PASSWORD, source="10.0.0.9")
    env.service.totp_login(step.mfa_token, totp.code_at(secret, env.clock.now()), source="10.0.0.9")
    fail(env)
    fail(env)
    # Two fresh failures are within the free allowance: the earlier two were forgotten.
    env.service.login("alice", PASSWORD, source="10.0.0.9")


def test_per_address_limit_spans_usernames(env: Env) -> None:
    for i in range(20):
        fail(env, f"user{i}", source="10.9.9.9")
    with pytest.raises(TooManyAttempts):
        env.service.login("someone-else", "whatever-long-password", source="10.9.9.9")
    fail(env, "someone-else", source="10.1.1.1")


@pytest.fixture
def redis_throttle() -> RedisThrottle:
    throttle = RedisThrottle(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}")
    try:
        throttle.retry_after("probe", ACCOUNT_POLICY)
    except Exception as exc:  # pragma: no cover - depends on the box
        pytest.skip(f"redis unavailable: {exc}")
    return throttle


def test_redis_throttle_locks_and_unlocks(redis_throttle: RedisThrottle) -> None:
    policy = ThrottlePolicy(free_failures=2, lock_after=4, lock_seconds=2, max_delay_seconds=1)
    redis_throttle.record_failure("k", policy)
    assert redis_throttle.retry_after("k", policy) == 0
    redis_throttle.record_failure("k", policy)
    assert redis_throttle.retry_after("k", policy) == 1
    redis_throttle.record_failure("k", policy)
    redis_throttle.record_failure("k", policy)
    assert redis_throttle.retry_after("k", policy) == 2
    time.sleep(2.1)
    assert redis_throttle.retry_after("k", policy) == 0
    # Count restarted after the lock: one failure is free again.
    redis_throttle.record_failure("k", policy)
    assert redis_throttle.retry_after("k", policy) == 0
    redis_throttle.reset("k")
    assert redis_throttle.retry_after("k", policy) == 0


def test_redis_throttle_shared_by_two_services(
    session_factory: sessionmaker[Session], redis_throttle: RedisThrottle
) -> None:
    # Two workers (two services) with one Redis: failures in one lock the account in the other.
    other = RedisThrottle(REDIS_URL, prefix=redis_throttle._prefix)
    first, second = make_env(session_factory, redis_throttle), make_env(session_factory, other)
    first.add_user()
    for _ in range(3):
        fail(first)
    with pytest.raises(TooManyAttempts):
        second.service.login("alice", PASSWORD, source="10.0.0.9")


def test_service_uses_redis_when_configured(session_factory: sessionmaker[Session]) -> None:
    from clearguard.identity.service import IdentityService
    from tests.integration.identity.identity_env import fast_settings

    service = IdentityService(session_factory, fast_settings(redis_url=REDIS_URL), secret_box=secret_box())
    assert isinstance(service.throttle, RedisThrottle)
