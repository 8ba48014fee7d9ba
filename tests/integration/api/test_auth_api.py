from __future__ import annotations

import pytest

from clearguard.identity import totp
from tests.integration.api.api_env import PASSWORD, Api
from tests.integration.identity.softkey import SoftAuthenticator

PROBLEM = "application/problem+json"


def test_contract_login_enrol_totp(api: Api) -> None:
    api.add_user("alice", party_eori="GB123456789000")
    r = api.client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["mfa_required"] is True and body["mfa_token"] and body["enrolment_required"] is True
    e = api.client.post("/api/v1/auth/mfa/totp/enroll", json={"mfa_token": body["mfa_token"]})
    assert set(e.json()) == {"otpauth_uri", "qr_svg"}
    assert e.json()["otpauth_uri"].startswith("otpauth://totp/")
    secret = e.json()["otpauth_uri"].split("secret=")[1].split("&")[0]
    c = api.client.post(
        "/api/v1/auth/mfa/totp/confirm",
        json={"mfa_token": body["mfa_token"], "code": totp.code_at(secret, api.clock.now())},
    )
    assert c.status_code == 200 and len(c.json()["recovery_codes"]) == 10
    api.clock.advance(30)
    r = api.client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    t = api.client.post(
        "/api/v1/auth/mfa/totp",
        json={"mfa_token": r.json()["mfa_token"], "code": totp.code_at(secret, api.clock.now())},
    )
    assert t.status_code == 200
    tokens = t.json()
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    me = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["username"] == "alice" and me.json()["party"] == "GB123456789000"


def test_wrong_password_and_unknown_user_answer_identically(api: Api) -> None:
    api.add_user("alice", party_eori="GB123456789000")
    a = api.client.post("/api/v1/auth/login", json={"username": "alice", "password": "wrong-password-x"})
    b = api.client.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong-password-x"})
    assert a.status_code == b.status_code == 401
    assert a.json() == {**b.json(), "instance": a.json()["instance"]}
    assert a.headers["content-type"] == PROBLEM
    assert a.json()["type"] == "urn:clearguard:problem:invalid-credentials"
    assert a.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.asvs("V6.3.1")
def test_lock_answers_429_with_retry_after(api: Api) -> None:
    api.add_user("alice", party_eori="GB123456789000")
    for _ in range(3):
        api.client.post("/api/v1/auth/login", json={"username": "alice", "password": "wrong-password-x"})
    r = api.client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert r.json()["type"] == "urn:clearguard:problem:too-many-attempts"


@pytest.mark.asvs("V7.4.1")
def test_refresh_rotation_reuse_and_logout(api: Api) -> None:
    api.add_user("alice", party_eori="GB123456789000")
    tokens = api.login("alice")
    r1 = api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r1.status_code == 200
    reuse = api.client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reuse.status_code == 401
    gone = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r1.json()['access_token']}"})
    assert gone.status_code == 401
    tokens = api.login("alice")
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert api.client.post("/api/v1/auth/logout", headers=auth).status_code == 204
    assert api.client.get("/api/v1/auth/me", headers=auth).status_code == 401


def test_access_token_expiry_over_http(api: Api) -> None:
    api.add_user("alice", party_eori="GB123456789000")
    auth = api.bearer("alice")
    assert api.client.get("/api/v1/auth/me", headers=auth).status_code == 200
    api.clock.advance(900)
    r = api.client.get("/api/v1/auth/me", headers=auth)
    assert r.status_code == 401 and r.json()["type"] == "urn:clearguard:problem:invalid-token"


def test_passkey_over_http_with_step_up(api: Api) -> None:
    api.add_user("alice", party_eori="GB123456789000")
    auth = api.bearer("alice")
    key = SoftAuthenticator()
    api.clock.advance(301)  # the login's MFA proof is now too old to add an authenticator
    r = api.client.post("/api/v1/auth/webauthn/register/options", headers=auth)
    assert r.status_code == 401 and r.json()["type"] == "urn:clearguard:problem:step-up-required"
    code = totp.code_at(api.secrets["alice"], api.clock.now())
    assert api.client.post("/api/v1/auth/step-up/totp", json={"code": code}, headers=auth).status_code == 204
    options = api.client.post("/api/v1/auth/webauthn/register/options", headers=auth).json()
    reg = api.client.post("/api/v1/auth/webauthn/register", json={"credential": key.register(options)}, headers=auth)
    assert reg.status_code == 201, reg.text
    r = api.client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    mfa_token = r.json()["mfa_token"]
    assert "webauthn" in r.json()["methods"]
    options = api.client.post("/api/v1/auth/webauthn/authenticate/options", json={"mfa_token": mfa_token}).json()
    done = api.client.post(
        "/api/v1/auth/webauthn/authenticate",
        json={"mfa_token": mfa_token, "credential": key.assert_(options)},
    )
    assert done.status_code == 200 and done.json()["token_type"] == "bearer"


def test_recovery_code_login_over_http(api: Api) -> None:
    api.add_user("alice", party_eori="GB123456789000")
    codes = api.login("alice")["recovery_codes"]
    r = api.client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    ok = api.client.post("/api/v1/auth/mfa/recovery", json={"mfa_token": r.json()["mfa_token"], "code": codes[0]})
    assert ok.status_code == 200
    r = api.client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    again = api.client.post("/api/v1/auth/mfa/recovery", json={"mfa_token": r.json()["mfa_token"], "code": codes[0]})
    assert again.status_code == 401 and again.json()["type"] == "urn:clearguard:problem:invalid-mfa"
