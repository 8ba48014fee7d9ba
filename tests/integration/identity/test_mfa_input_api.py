"""Odd characters in second-factor inputs (issue 13, item 12): fullwidth and other scripts' digits, lone
surrogates. Each gets a 4xx problem+json, never a 500, and a wrong code counts as a failed attempt."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select

from clearguard.identity import totp
from clearguard.identity.tables import MfaChallenge
from clearguard.identity.tokens import digest
from tests.integration.identity.live_app import PASSWORD, Live, make_live

PROBLEM = "application/problem+json"
FULLWIDTH = "１２３４５６"
# str.isdigit() is true for every one of these; none is six ASCII digits.
ODD_CODES = [FULLWIDTH, "٠١٢٣٤٥", "१२३४५६", "¹²³⁴⁵⁶", "12345６", "１２３ ４５６"]


@pytest.fixture
def live(database_url_and_engine: tuple[str, Engine]) -> Live:
    url, engine = database_url_and_engine
    return make_live(engine, url)


def raw_post(client: TestClient, path: str, body: dict[str, str], headers: dict[str, str] | None = None) -> Response:
    # json.dumps escapes a lone surrogate as \\ud800, which JSON parsers hand back as a lone surrogate.
    return client.post(path, content=json.dumps(body), headers={"content-type": "application/json", **(headers or {})})


def mfa_token(client: TestClient) -> str:
    r = client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return str(r.json()["mfa_token"])


def failures(live: Live, token: str) -> int:
    with live.services.session_factory() as session:
        return int(session.scalar(select(MfaChallenge.failures).where(MfaChallenge.token_hash == digest(token))) or 0)


def refused(r: Response, problem: str) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"] == f"urn:clearguard:problem:{problem}"


def test_odd_digits_in_totp_codes_are_counted_wrong_codes(live: Live) -> None:
    client = live.client("198.51.100.7")
    live.add_user("alice")
    token = mfa_token(client)
    secret = client.post("/api/v1/auth/mfa/totp/enroll", json={"mfa_token": token}).json()["otpauth_uri"]
    secret = secret.split("secret=")[1].split("&")[0]
    # Enrolment confirmation: refused and counted.
    refused(raw_post(client, "/api/v1/auth/mfa/totp/confirm", {"mfa_token": token, "code": FULLWIDTH}), "invalid-mfa")
    assert failures(live, token) == 1
    c = client.post(
        "/api/v1/auth/mfa/totp/confirm", json={"mfa_token": token, "code": totp.code_at(secret, live.clock.now())}
    )
    assert c.status_code == 200, c.text
    recovery = c.json()["recovery_codes"]
    session = {"Authorization": "Bearer " + c.json()["access_token"]}
    # Login: each odd code is one counted failure, up to the mfa_token's cap of 5.
    live.clock.advance(30)
    token = mfa_token(client)
    denied = live.denials("auth.totp")
    for n, code in enumerate(ODD_CODES[:5], start=1):
        refused(raw_post(client, "/api/v1/auth/mfa/totp", {"mfa_token": token, "code": code}), "invalid-mfa")
        assert failures(live, token) == n
        live.clock.advance(10)  # past the pair's growing delay (the mfa_token lives 300 s)
    assert live.denials("auth.totp") == denied + 5
    refused(
        raw_post(client, "/api/v1/auth/mfa/totp", {"mfa_token": token, "code": ODD_CODES[5]}), "mfa-attempts-exhausted"
    )
    # Step-up inside the session: refused as a wrong code.
    for code in ODD_CODES[:3]:
        refused(raw_post(client, "/api/v1/auth/step-up/totp", {"code": code}, headers=session), "invalid-mfa")
    # Recovery codes: fullwidth letters and other scripts' digits are wrong codes too.
    live.clock.advance(900)
    token = mfa_token(client)
    odd_recovery = [
        recovery[0].translate({ord(ch): ord(ch) + 0xFEE0 for ch in recovery[0] if ch.isalnum()}),
        "٣" * 24,
    ]
    for code in odd_recovery:
        refused(raw_post(client, "/api/v1/auth/mfa/recovery", {"mfa_token": token, "code": code}), "invalid-mfa")
    assert failures(live, token) == 2


def test_lone_surrogates_are_refused_at_the_boundary_naming_the_field(live: Live) -> None:
    client = live.client("198.51.100.8")
    live.add_user("alice")
    token = mfa_token(client)
    for path, body, field in [
        ("/api/v1/auth/mfa/totp", {"mfa_token": token, "code": "12345\ud800"}, "code"),
        ("/api/v1/auth/mfa/recovery", {"mfa_token": token, "code": "\ud800" * 24}, "code"),
        ("/api/v1/auth/mfa/totp", {"mfa_token": "cgm_\ud800", "code": "123456"}, "mfa_token"),
        ("/api/v1/auth/refresh", {"refresh_token": "cgr_\ud800"}, "refresh_token"),
        ("/api/v1/auth/login", {"username": "alice", "password": PASSWORD + "\ud800"}, "password"),
    ]:
        r = raw_post(client, path, body)
        assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, r.text
        assert [e["field"] for e in r.json()["errors"]] == [field]
    assert failures(live, token) == 0  # nothing reached the check
