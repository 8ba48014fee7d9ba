"""Alerts raised from real API traffic, deduplicated per incident; triage (false positives stop the
same noise, other noise still raises); responses: step-up required, sessions revoked, account locked,
and never any response on failed logins alone. Both databases."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select

from clearguard.detection.alerts import SUPPRESSION_DAYS
from clearguard.detection.tables import ActivityRow
from clearguard.identity.throttle_policy import PAIR_POLICY
from tests.integration.api.app_env import PASSWORD, RealApp
from tests.integration.detection.env import alerts, client_from, security_app, services_of, sign_in

ATTACKER, OTHER = "203.0.113.7", "198.51.100.9"


@pytest.fixture
def real(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> RealApp:
    # A one-minute incident gap: a pattern repeated minutes later is a new incident, so the test can
    # tell "suppressed" from "deduplicated into the old incident". Audit events (and so activity)
    # take their time from the test's frozen clock, which the test moves past windows and gaps.
    monkeypatch.setenv("CLEARGUARD_DETECTION_THRESHOLDS", '{"incident_gap_s": 60}')
    real = security_app(engine, database_url)
    monkeypatch.setattr(services_of(real).audit, "_clock", real.clock.now)
    return real


def fail_logins(real: RealApp, client: TestClient, username: str, times: int) -> None:
    """Failed logins from one address, each as soon as the throttle lets it through."""
    for failures in range(times):
        real.clock.advance(seconds=PAIR_POLICY.wait_after(failures))
        r = client.post("/api/v1/auth/login", json={"username": username, "password": "wrong-" + PASSWORD})
        assert r.status_code == 401, r.text


def test_brute_force_is_one_alert_and_never_a_response(real: RealApp) -> None:
    attacker = client_from(real, OTHER)
    fail_logins(real, attacker, "auditor", 9)  # the pair locks itself at 10
    raised = alerts(real, rule="brute_force_account")
    assert len(raised) == 1, [(a.rule, a.actors) for a in raised]  # one incident, not one per failure
    alert = raised[0]
    assert alert.level == "alert" and alert.severity == "high" and alert.actors == ["auditor"]
    assert alert.sources == [OTHER] and alert.findings >= 1 and "auditor" in alert.explanation
    # High severity, but failures alone: no response was taken, the victim keeps working.
    assert alert.responses and not any(r["taken"] for r in alert.responses)
    assert real.client.get("/api/v1/auth/me", headers=real.auth("auditor")).status_code == 200
    # A confirmation by security staff does not lock the victim either.
    r = triage(real, alert.id, "confirm", "brute force from a known bad address")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed" and not any(x["taken"] for x in r.json()["responses"])
    assert real.client.get("/api/v1/auth/me", headers=real.auth("auditor")).status_code == 200
    assert sign_in(real, real.client, "auditor")


def spray_failures(real: RealApp, username: str, net: int) -> None:
    """8 failed logins on one account, each from its own address of block `net` (the same block is
    the same harness; no throttle delay applies to one failure per address)."""
    for i in range(8):
        client = client_from(real, f"198.51.{100 + net}.{i + 1}")
        r = client.post("/api/v1/auth/login", json={"username": username, "password": "wrong-" + PASSWORD})
        assert r.status_code == 401, r.text


def test_false_positive_stops_the_same_noise_only(real: RealApp) -> None:
    spray_failures(real, "auditor", 0)
    [first] = alerts(real, rule="brute_force_account")
    real.clock.advance(seconds=200)  # past the rule's window and the incident gap
    spray_failures(real, "auditor", 0)  # the same pattern is a new incident...
    assert len(alerts(real, rule="brute_force_account")) == 2  # ...and raises (the test can fail)
    r = triage(real, first.id, "false_positive", "the auditors' test harness")
    assert r.status_code == 200 and r.json()["status"] == "false_positive", r.text
    assert r.json()["notes"][-1]["note"] == "the auditors' test harness"
    real.clock.advance(seconds=200)
    spray_failures(real, "auditor", 0)
    assert len(alerts(real, rule="brute_force_account")) == 2  # suppressed: nothing new
    # Anyone can fail logins in an account's name: the verdict must not blind detection to the same
    # rule on that account from other addresses, nor on other accounts.
    real.clock.advance(seconds=200)
    spray_failures(real, "auditor", 5)
    assert len(alerts(real, rule="brute_force_account")) == 3
    spray_failures(real, "analyst", 3)
    assert [a.actors for a in alerts(real, rule="brute_force_account")][-1] == ["analyst"]
    # A verdict holds for SUPPRESSION_DAYS, not forever.
    real.clock.advance(days=SUPPRESSION_DAYS + 1)
    spray_failures(real, "auditor", 0)
    assert [a.actors for a in alerts(real, rule="brute_force_account")][-1] == ["auditor"]


def test_responses_take_effect(real: RealApp) -> None:
    officer = real.auth("officer")
    mrns = [real.seed("gb"), real.seed("gb")]
    attacker = client_from(real, ATTACKER)
    fail_logins(real, attacker, "officer", 6)
    # The officer proves a second factor now: decisions need no further step-up...
    code = real.client.post("/api/v1/auth/step-up/totp", json={"code": _code(real, "officer")}, headers=officer)
    assert code.status_code == 204, code.text
    hold = {"decision": "hold", "reason": "documents"}
    assert real.client.post(f"/api/v1/declarations/{mrns[0]}/decisions", json=hold, headers=officer).status_code == 200
    # ...until the guessed password is used from the attacker's address: failures then a success.
    real.clock.advance(seconds=PAIR_POLICY.wait_after(6))
    r = attacker.post("/api/v1/auth/login", json={"username": "officer", "password": PASSWORD})
    assert r.status_code == 200, r.text
    [alert] = alerts(real, rule="failures_then_success")
    assert alert.severity == "high" and alert.actors == ["officer"]
    assert [(x["action"], x["taken"]) for x in alert.responses] == [("require_step_up", True)]
    refused = real.client.post(f"/api/v1/declarations/{mrns[1]}/decisions", json=hold, headers=officer)
    assert refused.status_code == 401 and refused.json()["type"].endswith("step-up-required"), refused.text
    # Security staff confirm: the officer's sessions are revoked and the account locked.
    other_session = sign_in(real, client_from(real, "10.0.0.5"), "officer")
    r = triage(real, alert.id, "confirm", "password guessed; officer informed by phone")
    assert r.status_code == 200, r.text
    taken = [(x["action"], x["actor"]) for x in r.json()["responses"] if x["taken"]]
    assert ("revoke_sessions", "officer") in taken and ("lock", "officer") in taken
    for token in (real.tokens["officer"], other_session):
        me = real.client.get("/api/v1/auth/me", headers={"Authorization": "Bearer " + token})
        assert me.status_code == 401, me.text
    login = real.client.post("/api/v1/auth/login", json={"username": "officer", "password": PASSWORD})
    assert login.status_code == 401, login.text  # locked: the right password is refused too
    # The lock is temporary: after it ends the officer signs in again.
    real.clock.advance(seconds=3601)
    assert sign_in(real, real.client, "officer")
    # Each response is in the audit trail (and so the ledger).
    from clearguard.audit.service import AuditQuery

    services = services_of(real)
    with services.session_factory() as session:
        events = services.audit.query(session, AuditQuery(record_type="account", record_id="officer"))
    actions = [e.action for e in events]
    assert {"account.require-step-up", "account.revoke-sessions", "account.lock"} <= set(actions)
    assert all(e.ledger_index is not None for e in events if e.action.startswith("account."))


def triage(real: RealApp, alert_id: int, verdict: str, note: str) -> Response:
    """A verdict needs a fresh second factor (it may lock accounts): step up, then triage."""
    secops = real.auth("secops")
    assert (
        real.client.post("/api/v1/auth/step-up/totp", json={"code": _code(real, "secops")}, headers=secops).status_code
        == 204
    )
    return real.client.post(
        f"/api/v1/detection/alerts/{alert_id}/triage", json={"verdict": verdict, "note": note}, headers=secops
    )


def _code(real: RealApp, username: str) -> str:
    from clearguard.identity import totp

    real.clock.advance(seconds=31)
    return totp.code_at(real.secrets[username], real.clock.now())


def test_no_one_triages_an_alert_about_themselves(real: RealApp) -> None:
    """Security staff cannot mark their own alert a false positive (which would blind detection to
    them) nor confirm it: another member of staff must."""
    spray_failures(real, "secops", 7)
    [about_me] = alerts(real, rule="brute_force_account")
    assert about_me.actors == ["secops"]
    r = triage(real, about_me.id, "false_positive", "that was me")
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json", r.text
    [again] = alerts(real, rule="brute_force_account")
    assert again.status == "open" and again.notes == []


def test_a_name_that_is_no_account_is_kept_keyed(real: RealApp) -> None:
    """What a stranger types as a username (often a password in the wrong field) is stored as its
    keyed reference; spraying it still correlates, an existing account keeps its name."""
    typed = "Hunter2-Summer!2026"
    attacker = client_from(real, ATTACKER)
    for _ in range(3):
        r = attacker.post("/api/v1/auth/login", json={"username": typed, "password": "x" * 12})
        assert r.status_code in (401, 429), r.text
    r = attacker.post("/api/v1/auth/login", json={"username": "auditor", "password": "wrong-" + PASSWORD})
    assert r.status_code in (401, 429), r.text
    with services_of(real).session_factory() as session:
        actors = [a for (a,) in session.execute(select(ActivityRow.actor).where(ActivityRow.source_ip == ATTACKER))]
    assert "auditor" in actors
    keyed = [a for a in actors if a.startswith("unknown:")]
    assert len(set(keyed)) == 1 and len(keyed) >= 3
    assert not any(typed.lower() in a.lower() for a in actors)
