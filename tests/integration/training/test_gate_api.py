"""The gate through the real application (create_app over build_services), on both databases: every
privileged role without current data-protection training is refused every privileged action with a
403 problem naming the course and why, while signing in, second-factor enrolment and its own routes
stay open; recording the training opens access at once; the expiry day closes it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from clearguard.access.roles import Role
from clearguard.db import transaction
from clearguard.identity import accounts, totp
from tests.integration.api.app_env import PASSWORD, PEOPLE, RealApp, make_real_app
from tests.integration.detection.env import services_of, sign_in

# A privileged action of each staff role, and one open to the outside roles.
PRIVILEGED: dict[str, tuple[str, str]] = {
    "officer": ("GET", "/api/v1/declarations"),
    "analyst": ("GET", "/api/v1/declarations"),
    "auditor": ("GET", "/api/v1/declarations"),
    "dpo": ("GET", "/api/v1/privacy/fields"),
    "admin": ("GET", "/api/v1/training/due"),
    "secops": ("GET", "/api/v1/detection/alerts"),
}
OUTSIDE = (Role.TRADER, Role.BROKER, Role.PARTNER)
STAFF = frozenset(name for name, (role, _p, _o) in PEOPLE.items() if role not in OUTSIDE)


def add_signed_in(real: RealApp, username: str, role: Role, **kw: Any) -> None:
    services = services_of(real)
    with transaction(services.session_factory) as session:
        account = accounts.create_account(
            session, services.identity.passwords, username=username, role=role, password=PASSWORD,
            now=real.clock.now(), **kw,
        )  # fmt: skip
        seed = totp.new_secret()
        services.identity.totp_secrets.put(account, seed)
        account.totp_confirmed = True
        real.secrets[username] = seed
    real.tokens[username] = sign_in(real, real.client, username)


def call(real: RealApp, username: str, method: str, path: str, **kw: Any) -> Any:
    return real.client.request(method, path, headers=real.auth(username), **kw)


def assert_training_refusal(response: Any, username: str, why: str) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == "urn:clearguard:problem:training-required"
    assert body["detail"] == f"training required: course data-protection {why} for {username}"
    assert body["course"] == "data-protection"
    assert "Traceback" not in response.text


@pytest.fixture
def untrained(database_url_and_engine: tuple[str, Engine]) -> RealApp:
    url, engine = database_url_and_engine
    real = make_real_app(engine, url, untrained=STAFF)
    add_signed_in(real, "secops", Role.SECURITY)
    return real


@pytest.fixture
def trained(database_url_and_engine: tuple[str, Engine]) -> RealApp:
    """Every staff account trained except the officer."""
    url, engine = database_url_and_engine
    return make_real_app(engine, url, untrained=frozenset({"officer"}))


def test_every_privileged_role_is_refused_but_its_own_routes_stay_open(untrained: RealApp) -> None:
    for username, (method, path) in PRIVILEGED.items():
        assert_training_refusal(call(untrained, username, method, path), username, "never recorded")
        # Its own account, sessions and standing stay reachable.
        me = call(untrained, username, "GET", "/api/v1/auth/me")
        assert me.status_code == 200, me.text
        mine = call(untrained, username, "GET", "/api/v1/training/me")
        assert mine.status_code == 200, mine.text
        assert mine.json()["privileged_actions"] == "refused"
        assert [g["status"] for g in mine.json()["gaps"]] == ["missing"]
        codes = call(untrained, username, "POST", "/api/v1/auth/mfa/recovery-codes")
        assert codes.status_code == 200, codes.text
    # Traders and brokers are not gated.
    for username in ("trader", "broker"):
        r = call(untrained, username, "GET", "/api/v1/declarations")
        assert r.status_code == 200, r.text
        assert call(untrained, username, "GET", "/api/v1/training/me").json()["privileged_actions"] == "open"


def test_an_untrained_officer_signs_in_and_enrols_a_second_factor(untrained: RealApp) -> None:
    services = services_of(untrained)
    with transaction(services.session_factory) as session:
        accounts.create_account(
            session, services.identity.passwords, username="newcomer", role=Role.OFFICER, password=PASSWORD,
            now=untrained.clock.now(), office="GB000060",
        )  # fmt: skip
    client: TestClient = untrained.client
    login = client.post("/api/v1/auth/login", json={"username": "newcomer", "password": PASSWORD})
    assert login.status_code == 200, login.text
    mfa_token = login.json()["mfa_token"]
    enrol = client.post("/api/v1/auth/mfa/totp/enroll", json={"mfa_token": mfa_token})
    assert enrol.status_code == 200, enrol.text
    secret = enrol.json()["otpauth_uri"].split("secret=")[1].split("&")[0]
    confirm = client.post(
        "/api/v1/auth/mfa/totp/confirm",
        json={"mfa_token": mfa_token, "code": totp.code_at(secret, untrained.clock.now())},
    )
    assert confirm.status_code == 200, confirm.text
    headers = {"Authorization": "Bearer " + confirm.json()["access_token"]}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    passkey = client.post("/api/v1/auth/webauthn/register/options", headers=headers)
    assert passkey.status_code == 200, passkey.text
    assert_training_refusal(client.get("/api/v1/declarations", headers=headers), "newcomer", "never recorded")


def test_recording_opens_access_at_once_and_the_expiry_day_closes_it(trained: RealApp) -> None:
    assert_training_refusal(call(trained, "officer", "GET", "/api/v1/declarations"), "officer", "never recorded")
    today = trained.clock.now().date()
    body = {
        "username": "officer", "course": "data-protection", "completed": today.isoformat(),
        "expires": (today + timedelta(days=1)).isoformat(), "certificate": "DP-2026-118",
    }  # fmt: skip
    recorded = call(trained, "admin", "POST", "/api/v1/training/completions", json=body)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["recorded_by"] == "admin"
    # The same session, the very next request.
    assert call(trained, "officer", "GET", "/api/v1/declarations").status_code == 200
    listed = call(trained, "dpo", "GET", "/api/v1/training/completions", params={"username": "officer"})
    assert [c["certificate"] for c in listed.json()["items"]] == ["DP-2026-118"]

    # Midnight passes: the expiry day has come.
    trained.clock.advance(days=1)
    for username in ("officer", "admin"):
        trained.tokens[username] = sign_in(trained, trained.client, username)
    expired_on = (today + timedelta(days=1)).isoformat()
    refused = call(trained, "officer", "GET", "/api/v1/declarations")
    assert_training_refusal(refused, "officer", f"expired on {expired_on}")
    due = call(trained, "admin", "GET", "/api/v1/training/due")
    assert due.status_code == 200, due.text
    assert {"username": "officer", "role": "officer", "course": "data-protection", "status": "expired"}.items() <= next(
        g for g in due.json()["items"] if g["username"] == "officer"
    ).items()


def test_recording_through_the_api_refuses_bad_input_and_oneself(trained: RealApp) -> None:
    today = trained.clock.now().date().isoformat()
    base = {"username": "officer", "course": "data-protection", "completed": today, "expires": "2099-01-01"}
    for change, field in (
        ({"completed": "2026-13-01"}, "completed"),
        ({"expires": "01/01/2099"}, "expires"),
        ({"expires": today}, "expires"),
        ({"course": "first-aid"}, "course"),
        ({"username": "nobody"}, "username"),
        ({"username": "admin"}, "username"),  # one's own training
    ):
        r = call(trained, "admin", "POST", "/api/v1/training/completions", json=base | change)
        assert r.status_code in (403, 404, 422), r.text
        assert r.json()["field"] == field, r.text
    unknown = call(trained, "admin", "POST", "/api/v1/training/completions", json=base | {"note": "x"})
    assert unknown.status_code == 422
    # Recording is for administrators and the DPO; the officer remains refused.
    assert call(trained, "auditor", "POST", "/api/v1/training/completions", json=base).status_code == 403
    assert_training_refusal(call(trained, "officer", "GET", "/api/v1/declarations"), "officer", "never recorded")
