"""The sharing API: agreements for the DPO and administrators with step-up only; the inbox for a
partner's client certificate only (a bearer token, even a partner account's, never reaches it)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from clearguard.config import Settings
from clearguard.crypto import init_keys
from clearguard.crypto.tls import init_tls
from clearguard.declarations.results import Actor
from clearguard.identity import totp
from clearguard.sharing.keys import init_sharing_keys
from tests.integration.api.app_env import RealApp, make_real_app
from tests.unit.sharing.partner_identity import partner_identity

BASE = "/api/v1/sharing/agreements"


@pytest.fixture
def real(database_url_and_engine: tuple[str, Engine]) -> RealApp:
    url, engine = database_url_and_engine
    settings = Settings(env="test", database_url=url)
    init_keys(settings)
    init_tls(settings.keys_dir)
    init_sharing_keys(settings)
    app = make_real_app(engine, url)
    services = app.client.app.state.services  # type: ignore[attr-defined]
    services.sharing.add_partner("nl", partner_identity().document, actor=Actor("test", "system", "test"))
    return app


def _step_up(real: RealApp, username: str) -> None:
    code = totp.code_at(real.secrets[username], real.clock.now())
    r = real.client.post("/api/v1/auth/step-up/totp", json={"code": code}, headers=real.auth(username))
    assert r.status_code == 204, r.text


@pytest.mark.asvs("V8.2.1")
def test_agreements_need_dpo_or_admin_with_step_up(real: RealApp) -> None:
    for username in ("trader", "broker", "officer", "analyst", "auditor", "partner"):
        r = real.client.get(BASE, headers=real.auth(username))
        assert r.status_code == 403, (username, r.text)
    real.clock.advance(301)
    r = real.client.get(BASE, headers=real.auth("dpo"))
    assert r.status_code == 401 and r.json()["type"] == "urn:clearguard:problem:step-up-required"
    _step_up(real, "dpo")
    assert real.client.get(BASE, headers=real.auth("dpo")).json() == []
    _step_up(real, "admin")
    assert real.client.get(BASE, headers=real.auth("admin")).status_code == 200


def test_create_show_revoke(real: RealApp) -> None:
    auth = real.auth("dpo")
    body = {
        "partner": "nl", "purpose": "risk analysis", "legal_basis": "UCC art. 47", "allow": ["code", "trade"],
        "fields": ["items/commodity_code"], "pseudonymise": True, "valid_from": "2026-01-01",
        "valid_until": "2027-01-01", "max_per_day": 10,
    }  # fmt: skip
    r = real.client.post(BASE, json=body | {"allow": ["biometric"]}, headers=auth)
    assert r.status_code == 400 and "--allow" in r.json()["detail"], r.text
    r = real.client.post(BASE, json=body | {"extra": 1}, headers=auth)
    assert r.status_code in (400, 422), r.text
    r = real.client.post(BASE, json=body, headers=auth)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["status"] == "proposed" and created["document"].count(".") == 2
    shown = real.client.get(f"{BASE}/{created['id']}", headers=auth).json()
    assert shown["fields"] == ["items/commodity_code"] and shown["countersignature"] is None
    r = real.client.post(f"{BASE}/{created['id']}/revoke", json={"reason": "superseded"}, headers=auth)
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert real.client.get(f"{BASE}/agr-nope", headers=auth).status_code == 422
    assert real.client.get(f"{BASE}/agr-{'0' * 32}", headers=auth).status_code == 404


def test_inbox_refuses_bearer_tokens(real: RealApp) -> None:
    for username in ("partner", "dpo", "admin"):
        r = real.client.post("/api/v1/sharing/inbox", content=b"x", headers=real.auth(username))
        assert r.status_code == 401, (username, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


def test_statistical_release_needs_an_agreement_in_force(real: RealApp) -> None:
    from clearguard.sharing.errors import AgreementError

    sharing = real.client.app.state.services.sharing  # type: ignore[attr-defined]
    with pytest.raises(AgreementError, match="no such agreement"):
        sharing.check_release("agr-" + "0" * 32)
    body = {"partner": "nl", "purpose": "statistics", "legal_basis": "art. 12", "allow": ["code"]}
    dates = {"valid_from": "2026-01-01", "valid_until": "2030-01-01"}
    r = real.client.post(BASE, json=body | dates, headers=real.auth("dpo"))
    with pytest.raises(AgreementError, match="not yet accepted"):
        sharing.check_release(r.json()["id"])


def test_reidentify_is_the_dpo_s_alone_with_step_up(real: RealApp) -> None:
    body = {"pseudonym": "pn:abcdefgh", "partner": "nl", "reason": "case 17"}
    for username in ("admin", "officer", "analyst", "auditor", "trader", "partner"):
        r = real.client.post("/api/v1/sharing/reidentify", json=body, headers=real.auth(username))
        assert r.status_code == 403, (username, r.text)
    real.clock.advance(301)
    r = real.client.post("/api/v1/sharing/reidentify", json=body, headers=real.auth("dpo"))
    assert r.status_code == 401
    _step_up(real, "dpo")
    r = real.client.post("/api/v1/sharing/reidentify", json=body, headers=real.auth("dpo"))
    assert r.status_code == 404 and "no such pseudonym" in r.json()["detail"]
    r = real.client.post("/api/v1/sharing/reidentify", json=body | {"pseudonym": "GB123"}, headers=real.auth("dpo"))
    assert r.status_code in (400, 422)
    services = real.client.app.state.services  # type: ignore[attr-defined]
    with services.session_factory() as session:
        events = services.audit.by_record(session, "sharing_package", "pn:abcdefgh")
    assert [(e.action, e.outcome, e.justification) for e in events] == [("sharing.reidentify", "failed", "case 17")]
