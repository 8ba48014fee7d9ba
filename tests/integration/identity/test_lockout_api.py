"""Nobody can lock anyone out (issue 13, item 11), through the HTTP API of the app wired by
build_services: an attacker's address and the victim's are two clients of one application."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from clearguard.identity import totp
from tests.integration.identity.live_app import PASSWORD, Live, make_live

REDIS_URL = "redis://127.0.0.1:6379/15"
ATTACKER, VICTIM = "203.0.113.66", "198.51.100.7"


@pytest.fixture
def live(database_url_and_engine: tuple[str, Engine]) -> Live:
    url, engine = database_url_and_engine
    return make_live(engine, url)


def sign_in(app: Live, client: TestClient, username: str, secret: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    t = client.post(
        "/api/v1/auth/mfa/totp",
        json={"mfa_token": r.json()["mfa_token"], "code": totp.code_at(secret, app.clock.now())},
    )
    assert t.status_code == 200, t.text
    return {"Authorization": "Bearer " + t.json()["access_token"]}


def enrolled(app: Live, client: TestClient, username: str) -> str:
    app.add_user(username)
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    token = r.json()["mfa_token"]
    e = client.post("/api/v1/auth/mfa/totp/enroll", json={"mfa_token": token})
    secret = str(e.json()["otpauth_uri"].split("secret=")[1].split("&")[0])
    c = client.post(
        "/api/v1/auth/mfa/totp/confirm", json={"mfa_token": token, "code": totp.code_at(secret, app.clock.now())}
    )
    assert c.status_code == 200, c.text
    app.clock.advance(30)
    return secret


@pytest.mark.asvs("V6.3.1")
def test_an_attacker_cannot_lock_the_victim_out(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    attacker, victim = live.client(ATTACKER), live.client(VICTIM)
    secret = enrolled(live, victim, "alice")
    # "Answered at once" without a stopwatch: every way the server could wait (time.sleep, which
    # the busy-retry uses, and asyncio.sleep) is watched, and a refusal must not have used one.
    sleeps: list[float] = []
    real_sleep, real_async_sleep = time.sleep, asyncio.sleep

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        real_sleep(seconds)

    async def async_sleep(seconds: float, *args: Any, **kwargs: Any) -> Any:
        sleeps.append(seconds)
        return await real_async_sleep(seconds, *args, **kwargs)

    monkeypatch.setattr(time, "sleep", sleep)
    monkeypatch.setattr(asyncio, "sleep", async_sleep)
    statuses = []
    for _ in range(20):  # paced past every growing delay, so that each guess is checked
        sleeps.clear()
        r = attacker.post("/api/v1/auth/login", json={"username": "alice", "password": "guess-guess-guess"})
        statuses.append(r.status_code)
        if r.status_code == 429:
            assert int(r.headers["retry-after"]) >= 1  # the client is told to wait...
            assert [s for s in sleeps if s > 0] == []  # ...the server never does
            assert r.json()["type"] == "urn:clearguard:problem:too-many-attempts"
        live.clock.advance(61)
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}  # the attacker's pair is locked
    # The victim, from her own address, logs in at once with her password and TOTP...
    session = sign_in(live, victim, "alice", secret)
    live.clock.advance(30)
    # ...and steps up inside her session, whatever failures were made elsewhere.
    r = victim.post("/api/v1/auth/step-up/totp", json={"code": totp.code_at(secret, live.clock.now())}, headers=session)
    assert r.status_code == 204, r.text
    # The attacker stays locked out (the lock is the pair's, not lifted by the victim's success).
    r = attacker.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 429


def test_failed_step_ups_elsewhere_do_not_hold_back_the_victims_session(live: Live) -> None:
    victim = live.client(VICTIM)
    secret = enrolled(live, victim, "alice")
    mine = sign_in(live, victim, "alice", secret)
    live.clock.advance(30)
    stolen = sign_in(live, live.client(ATTACKER), "alice", secret)  # e.g. a second device of hers, misused
    live.clock.advance(30)
    for _ in range(12):
        r = live.client(ATTACKER).post("/api/v1/auth/step-up/totp", json={"code": "000000"}, headers=stolen)
        assert r.status_code in (401, 429)
    r = victim.post("/api/v1/auth/step-up/totp", json={"code": totp.code_at(secret, live.clock.now())}, headers=mine)
    assert r.status_code == 204, r.text


@pytest.fixture
def live_redis(database_url_and_engine: tuple[str, Engine]) -> Iterator[Live]:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as exc:  # pragma: no cover - depends on the box
        pytest.skip(f"redis unavailable: {exc}")
    url, engine = database_url_and_engine
    yield make_live(engine, url, redis_url=REDIS_URL)


def test_an_attacker_cannot_lock_the_victim_out_with_redis(live_redis: Live) -> None:
    """The same promise with the Redis throttle (several API workers), on Redis's real clock."""
    username = "v" + uuid.uuid4().hex[:12]  # Redis outlives the test database: a name of its own
    attacker, victim = live_redis.client(ATTACKER), live_redis.client(VICTIM)
    secret = enrolled(live_redis, victim, username)
    statuses = [
        attacker.post("/api/v1/auth/login", json={"username": username, "password": "guess-guess-guess"}).status_code
        for _ in range(8)
    ]
    assert statuses[:3] == [401] * 3 and 429 in statuses
    session = sign_in(live_redis, victim, username, secret)
    live_redis.clock.advance(30)
    r = victim.post(
        "/api/v1/auth/step-up/totp", json={"code": totp.code_at(secret, live_redis.clock.now())}, headers=session
    )
    assert r.status_code == 204, r.text
