"""Single use under any concurrency (issue 13, items 15-18): real concurrent requests against a real
uvicorn server, on SQLite (which serialises writers) and PostgreSQL (which does not)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from clearguard.identity import totp
from clearguard.identity.tables import MfaChallenge, RecoveryCode
from clearguard.identity.tokens import digest, recovery_digest
from tests.integration.identity.live_app import PASSWORD, Live, make_live, race, serve, source, wrong_code

PROBLEM = "urn:clearguard:problem:"


@pytest.fixture
def live(database_url_and_engine: tuple[str, Engine]) -> Iterator[tuple[Live, str]]:
    url, engine = database_url_and_engine
    app = make_live(engine, url)
    with serve(app.app) as base:
        yield app, base


def outcome(r: Any) -> str:
    """'200', '429', or the problem type of a refusal; an exception's name if the request failed."""
    if isinstance(r, Exception):
        return type(r).__name__
    if r.status_code >= 400:
        assert r.headers["content-type"] == "application/problem+json", r.text
        return str(r.json()["type"]).removeprefix(PROBLEM) if r.status_code != 429 else "429"
    return str(r.status_code)


def login(base: str, username: str, src: int = 0) -> str:
    r = httpx.post(f"{base}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, headers=source(src))
    assert r.status_code == 200, r.text
    return str(r.json()["mfa_token"])


def enrol(live: Live, base: str, username: str) -> tuple[str, list[str]]:
    """Enrol TOTP through the API; the seed and the recovery codes. The clock then moves one step."""
    token = login(base, username)
    e = httpx.post(f"{base}/api/v1/auth/mfa/totp/enroll", json={"mfa_token": token})
    secret = e.json()["otpauth_uri"].split("secret=")[1].split("&")[0]
    c = httpx.post(
        f"{base}/api/v1/auth/mfa/totp/confirm",
        json={"mfa_token": token, "code": totp.code_at(secret, live.clock.now())},
    )
    assert c.status_code == 200, c.text
    live.clock.advance(30)
    return secret, list(c.json()["recovery_codes"])


def no_server_errors(outcomes: list[str]) -> None:
    assert all((o.isdigit() and int(o) < 500) or not o.isdigit() for o in outcomes), outcomes
    assert not any(o.endswith("Error") or o.endswith("Exception") for o in outcomes), outcomes


@pytest.mark.asvs("V6.5.1")
def test_one_totp_code_on_one_mfa_token_opens_one_session(live: tuple[Live, str]) -> None:
    app, base = live
    app.add_user("alice")
    secret, _ = enrol(app, base, "alice")
    token, code = login(base, "alice"), totp.code_at(secret, app.clock.now())
    results = race(
        10,
        lambda c, i: c.post(f"{base}/api/v1/auth/mfa/totp", json={"mfa_token": token, "code": code}, headers=source(i)),
    )
    outcomes = [outcome(r) for r in results]
    no_server_errors(outcomes)
    assert outcomes.count("200") == 1, outcomes
    winner = next(r for r in results if r.status_code == 200)
    me = httpx.get(f"{base}/api/v1/auth/me", headers={"Authorization": "Bearer " + winner.json()["access_token"]})
    assert me.status_code == 200


def test_one_totp_code_on_five_mfa_tokens_opens_one_session(live: tuple[Live, str]) -> None:
    app, base = live
    app.add_user("alice")
    secret, _ = enrol(app, base, "alice")
    tokens = [login(base, "alice") for _ in range(5)]
    code = totp.code_at(secret, app.clock.now())
    results = race(
        5,
        lambda c, i: c.post(
            f"{base}/api/v1/auth/mfa/totp", json={"mfa_token": tokens[i], "code": code}, headers=source(i)
        ),
    )
    outcomes = [outcome(r) for r in results]
    no_server_errors(outcomes)
    assert outcomes.count("200") == 1, outcomes
    assert Counter(outcomes)["invalid-mfa"] == 4, outcomes  # the step is spent once per account


def test_totp_confirm_succeeds_once(live: tuple[Live, str]) -> None:
    app, base = live
    account_id = app.add_user("alice")
    token = login(base, "alice")
    e = httpx.post(f"{base}/api/v1/auth/mfa/totp/enroll", json={"mfa_token": token})
    secret = e.json()["otpauth_uri"].split("secret=")[1].split("&")[0]
    code = totp.code_at(secret, app.clock.now())
    results = race(
        6,
        lambda c, i: c.post(
            f"{base}/api/v1/auth/mfa/totp/confirm", json={"mfa_token": token, "code": code}, headers=source(i)
        ),
    )
    outcomes = [outcome(r) for r in results]
    no_server_errors(outcomes)
    assert outcomes.count("200") == 1, outcomes
    # One set of recovery codes, the one handed out (none thrown away by a losing request).
    codes = next(r for r in results if r.status_code == 200).json()["recovery_codes"]
    with app.services.session_factory() as session:
        stored = set(session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.account_id == account_id)))
    assert stored == {recovery_digest(c) for c in codes}


def test_one_step_up_code_succeeds_once(live: tuple[Live, str]) -> None:
    app, base = live
    app.add_user("alice")
    secret, _ = enrol(app, base, "alice")
    bearers = []
    for _ in range(5):  # five sessions of one account, each logged in with a step of its own
        token = login(base, "alice")
        t = httpx.post(
            f"{base}/api/v1/auth/mfa/totp", json={"mfa_token": token, "code": totp.code_at(secret, app.clock.now())}
        )
        assert t.status_code == 200, t.text
        bearers.append({"Authorization": "Bearer " + t.json()["access_token"]})
        app.clock.advance(30)
    code = totp.code_at(secret, app.clock.now())
    results = race(
        10,
        lambda c, i: c.post(
            f"{base}/api/v1/auth/step-up/totp", json={"code": code}, headers={**bearers[i % 5], **source(i)}
        ),
    )
    outcomes = [outcome(r) for r in results]
    no_server_errors(outcomes)
    assert outcomes.count("204") == 1, outcomes


@pytest.mark.asvs("V6.5.1")
def test_one_recovery_code_opens_one_session(live: tuple[Live, str]) -> None:
    app, base = live
    app.add_user("alice")
    _, codes = enrol(app, base, "alice")
    tokens = [login(base, "alice") for _ in range(5)]
    results = race(
        5,
        lambda c, i: c.post(
            f"{base}/api/v1/auth/mfa/recovery", json={"mfa_token": tokens[i], "code": codes[0]}, headers=source(i)
        ),
    )
    outcomes = [outcome(r) for r in results]
    no_server_errors(outcomes)
    assert outcomes.count("200") == 1, outcomes


def test_wrong_codes_on_one_mfa_token_are_capped_atomically(live: tuple[Live, str]) -> None:
    app, base = live
    app.add_user("alice")
    secret, _ = enrol(app, base, "alice")
    denied_before = app.denials("auth.totp")
    token, wrong = login(base, "alice"), wrong_code(secret, app.clock.now())
    results = race(
        40,
        lambda c, i: c.post(
            f"{base}/api/v1/auth/mfa/totp", json={"mfa_token": token, "code": wrong}, headers=source(i)
        ),
    )
    outcomes = Counter(outcome(r) for r in results)
    no_server_errors(list(outcomes.elements()))
    checked = outcomes["invalid-mfa"]
    assert 1 <= checked <= 5, outcomes
    # Beyond the cap: refused unchecked, with a problem type of its own.
    assert outcomes["mfa-attempts-exhausted"] == 40 - checked, outcomes
    with app.services.session_factory() as session:
        failures = session.scalar(select(MfaChallenge.failures).where(MfaChallenge.token_hash == digest(token)))
    assert failures == checked == app.denials("auth.totp") - denied_before


@pytest.mark.asvs("V6.3.1")
def test_wrong_codes_over_eight_mfa_tokens_from_one_source_are_throttled(live: tuple[Live, str]) -> None:
    app, base = live
    app.add_user("alice")
    secret, _ = enrol(app, base, "alice")
    denied_before = app.denials("auth.totp")
    tokens = [login(base, "alice", src=7) for _ in range(8)]
    wrong = wrong_code(secret, app.clock.now())
    results = race(
        40,
        lambda c, i: c.post(
            f"{base}/api/v1/auth/mfa/totp", json={"mfa_token": tokens[i % 8], "code": wrong}, headers=source(7)
        ),
    )
    outcomes = Counter(outcome(r) for r in results)
    no_server_errors(list(outcomes.elements()))
    checked = outcomes["invalid-mfa"]
    # The (account, source) pair admits its free allowance (3 failures), the rest wait: 429 at once.
    assert 1 <= checked <= 3 and outcomes["429"] == 40 - checked, outcomes
    assert all(r.headers.get("retry-after") for r in results if r.status_code == 429)
    with app.services.session_factory() as session:
        failures = session.scalar(
            select(func.sum(MfaChallenge.failures)).where(MfaChallenge.token_hash.in_([digest(t) for t in tokens]))
        )
    assert failures == checked == app.denials("auth.totp") - denied_before
