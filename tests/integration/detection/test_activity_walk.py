"""Every audited API route leaves its activity event, in its audit event's transaction: none lost,
none invented. The walk drives the real application over HTTP, on both databases; the route list is
checked against the application's, so a new route must be placed in the walk or named as unaudited."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Engine, select

from clearguard.api.walker import walk
from clearguard.audit.service import AuditQuery
from clearguard.detection.activity import AUDIT_TO_ACTIVITY, NOT_ACTIVITY
from clearguard.detection.tables import ActivityRow
from clearguard.identity import totp
from clearguard.portal.permissions import PAGES
from clearguard.wiring import Services
from tests.integration.api.app_env import OTHER_GB_OFFICE, PASSWORD, RealApp, make_real_app

# Routes the walk does not drive, each with why no activity event is due from it.
UNAUDITED = {
    ("GET", "/health"): "no data",
    ("GET", "/openapi.json"): "the API description",
    ("GET", "/ledger/checkpoint"): "public log",
    ("GET", "/ledger/key"): "public log",
    ("GET", "/ledger/tile/{path:path}"): "public log",
    ("POST", "/ledger/receipts/verify"): "public verification",
    ("POST", "/ledger/witness/add-checkpoint"): "witness protocol",
    ("GET", "/ledger/receipts/{index}"): "public receipts",
    ("GET", "/api/v1/declarations/{mrn}/receipt"): "a ledger receipt, no contents",
    ("GET", "/api/v1/auth/me"): "the caller's own account",
    ("POST", "/api/v1/auth/mfa/totp/enroll"): "enrolment, before any login completes",
    ("POST", "/api/v1/auth/mfa/totp/confirm"): "enrolment, audited as the login it completes",
    ("POST", "/api/v1/auth/mfa/webauthn/enroll/options"): "enrolment",
    ("POST", "/api/v1/auth/mfa/webauthn/enroll"): "enrolment",
    ("POST", "/api/v1/auth/webauthn/authenticate/options"): "a challenge, no decision",
    ("POST", "/api/v1/auth/webauthn/authenticate"): "the second factor (auth.mfa, as TOTP in the walk)",
    ("POST", "/api/v1/auth/mfa/recovery"): "the second factor (auth.mfa, as TOTP in the walk)",
    ("POST", "/api/v1/auth/webauthn/register/options"): "a challenge, no decision",
    ("POST", "/api/v1/auth/webauthn/register"): "a new authenticator of the caller",
    ("POST", "/api/v1/auth/mfa/recovery-codes"): "the caller's own recovery codes",
    ("POST", "/api/v1/auth/step-up/webauthn/options"): "a challenge, no decision",
    ("POST", "/api/v1/auth/step-up/webauthn"): "step-up (auth.mfa, as TOTP in the walk)",
    ("POST", "/api/v1/auth/logout"): "audited, not activity (NOT_ACTIVITY)",
}


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    return make_real_app(engine, database_url)


def _services(real: RealApp) -> Services:
    services = real.client.app.state.services  # type: ignore[attr-defined]
    assert isinstance(services, Services)
    return services


def _mfa(real: RealApp, username: str, password: str = PASSWORD) -> dict[str, Any]:
    real.clock.advance(seconds=31)  # a fresh TOTP step: each is spent once
    r = real.client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    code = totp.code_at(real.secrets[username], real.clock.now())
    t = real.client.post("/api/v1/auth/mfa/totp", json={"mfa_token": r.json()["mfa_token"], "code": code})
    assert t.status_code == 200, t.text
    return dict(t.json())


def drive(real: RealApp) -> dict[tuple[str, str], Counter[str]]:
    """Every audited route, each call with the activity actions it must add."""
    c = real.client
    driven: dict[tuple[str, str], Counter[str]] = {}

    def expect(method: str, path: str, *actions: str) -> None:
        driven.setdefault((method, path), Counter()).update(actions)

    trader, officer = real.auth("trader"), real.auth("officer")
    # login: a wrong password, then a full login (password, second factor), a wrong second factor
    assert c.post("/api/v1/auth/login", json={"username": "trader", "password": "wrong-" + PASSWORD}).status_code == 401
    assert c.post("/api/v1/auth/login", json={"username": "nobody-here", "password": "x" * 12}).status_code == 401
    expect("POST", "/api/v1/auth/login", "auth.login", "auth.login")
    tokens = _mfa(real, "trader")
    expect("POST", "/api/v1/auth/login", "auth.login")
    expect("POST", "/api/v1/auth/mfa/totp", "auth.mfa")
    real.clock.advance(seconds=31)
    step = c.post("/api/v1/auth/login", json={"username": "trader", "password": PASSWORD}).json()
    bad = c.post("/api/v1/auth/mfa/totp", json={"mfa_token": step["mfa_token"], "code": "000000"})
    assert bad.status_code in (400, 401), bad.text
    expect("POST", "/api/v1/auth/login", "auth.login")
    expect("POST", "/api/v1/auth/mfa/totp", "auth.mfa")
    # refresh, and a replayed refresh token (denied)
    r = c.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200, r.text
    assert c.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    expect("POST", "/api/v1/auth/refresh", "auth.refresh", "auth.refresh")
    # lodging, listing, reading, amending, deciding
    doc = real.document("gb")
    r = c.post("/api/v1/declarations", content=json.dumps(doc), headers=trader)
    assert r.status_code == 201, r.text
    mrn = r.json()["mrn"]
    expect("POST", "/api/v1/declarations", "declaration.lodge")
    assert c.get("/api/v1/declarations", headers=officer).status_code == 200
    expect("GET", "/api/v1/declarations", "declaration.list")
    assert c.get(f"/api/v1/declarations/{mrn}", headers=officer).status_code == 200
    expect("GET", "/api/v1/declarations/{mrn}", "declaration.read")
    amended = c.post(
        f"/api/v1/declarations/{mrn}/amendments", json={"reason": "typo", "declaration": doc}, headers=trader
    )
    assert amended.status_code == 201, amended.text
    expect("POST", "/api/v1/declarations/{mrn}/amendments", "declaration.amend")
    code = totp.code_at(real.secrets["officer"], real.clock.now())
    assert c.post("/api/v1/auth/step-up/totp", json={"code": code}, headers=officer).status_code == 204
    expect("POST", "/api/v1/auth/step-up/totp", "auth.mfa")
    decided = c.post(
        f"/api/v1/declarations/{mrn}/decisions", json={"decision": "hold", "reason": "check"}, headers=officer
    )
    assert decided.status_code == 200, decided.text
    expect("POST", "/api/v1/declarations/{mrn}/decisions", "declaration.decide")
    # break-glass: another office's declaration, with a justification
    other = real.seed("gb", office=OTHER_GB_OFFICE)
    expect("(seed)", "", "declaration.lodge")
    glass = c.get(
        f"/api/v1/declarations/{other}", headers={**officer, "X-Justification": "incident 42: suspected undervaluation"}
    )
    assert glass.status_code == 200, glass.text
    expect("GET", "/api/v1/declarations/{mrn}", "access.breakglass", "declaration.read")
    # drafts: saved, listed, read, replaced, deleted (no activity), and one lodged (a lodging)
    made = c.post("/api/v1/drafts", json={"type": "H1"}, headers=trader).json()
    spare = c.post("/api/v1/drafts", json={}, headers=trader).json()
    expect("POST", "/api/v1/drafts")
    assert c.get("/api/v1/drafts", headers=trader).status_code == 200
    expect("GET", "/api/v1/drafts")
    assert c.get(f"/api/v1/drafts/{made['id']}", headers=trader).status_code == 200
    expect("GET", "/api/v1/drafts/{draft_id}")
    assert c.put(f"/api/v1/drafts/{made['id']}", json=real.document("gb"), headers=trader).status_code == 200
    expect("PUT", "/api/v1/drafts/{draft_id}")
    assert c.delete(f"/api/v1/drafts/{spare['id']}", headers=trader).status_code == 204
    expect("DELETE", "/api/v1/drafts/{draft_id}")
    lodged = c.post(f"/api/v1/drafts/{made['id']}/lodge", headers=trader)
    assert lodged.status_code == 201, lodged.text
    expect("POST", "/api/v1/drafts/{draft_id}/lodge", "declaration.lodge")
    assert c.post("/api/v1/auth/logout", headers=real.auth("auditor")).status_code == 204
    return driven


def test_every_audited_route_leaves_its_activity_event(real: RealApp) -> None:
    services = _services(real)
    with services.session_factory() as session:
        before_audit = {e.event_id for e in services.audit.query(session, AuditQuery(limit=100_000))}
        before_activity = session.execute(select(ActivityRow.id)).scalars().all()
    driven = drive(real)

    routes = {(m, r.path) for r in walk(real.client.app) for m in r.methods if m not in ("HEAD", "OPTIONS")}  # type: ignore[arg-type]
    routes = {(m, p) for m, p in routes if not p.startswith(("/api/v1/privacy", "/api/v1/retention",
                                                             "/api/v1/travellers", "/api/v1/detection",
                                                             "/api/v1/sharing", "/api/v1/training"))}  # fmt: skip
    # The portal's pages are not API routes: their reads and decisions go through the same services,
    # whose audit events feed the same observer (tests/integration/portal checks their audit events).
    routes -= {(page.method, page.path) for page in PAGES}
    unplaced = routes - set(driven) - set(UNAUDITED)
    assert not unplaced, f"routes neither walked nor named as unaudited: {sorted(unplaced)}"

    with services.session_factory() as session:
        events = [e for e in services.audit.query(session, AuditQuery(limit=100_000)) if e.event_id not in before_audit]
        rows = session.execute(select(ActivityRow).where(ActivityRow.id.not_in(before_activity))).scalars().all()
    # Every audit action is either activity or named as not activity, with its reason.
    unknown = {e.action for e in events} - set(AUDIT_TO_ACTIVITY) - set(NOT_ACTIVITY)
    assert not unknown, unknown
    # None lost: each audit event that is activity has exactly its row; none invented: no other row.
    by_event = Counter(r.audit_event for r in rows)
    expected_ids = {e.event_id for e in events if e.action in AUDIT_TO_ACTIVITY}
    assert set(by_event) == expected_ids and all(n == 1 for n in by_event.values())
    # And the walk's own expectation, action by action.
    want = sum(driven.values(), Counter())
    got = Counter(r.action for r in rows)
    assert got == want, (got, want)
    # Keyed references only: no MRN, EORI or name tried in clear in the activity store.
    for row in rows:
        for value in (row.record, row.party):
            assert value is None or (len(value) == 64 and int(value, 16) >= 0)
    mrns = {e.record_id for e in events if e.record_type == "declaration"}
    stored = {str(v) for r in rows for v in (r.record, r.party, r.actor, r.user_agent)}
    assert not (mrns & stored) and not any("GB123456789000" in v for v in stored)
    # Outcomes and actors as detection reads them.
    failures = [(r.action, r.actor) for r in rows if r.outcome == "failure"]
    assert ("auth.login", "trader") in failures
    # A name that is no account is kept as its keyed reference, never as typed.
    assert any(a == "auth.login" and n.startswith("unknown:") for a, n in failures)
    assert not any("nobody-here" in n for _a, n in failures)
    assert ("auth.mfa", "trader") in failures
    assert [r.outcome for r in rows if r.action == "auth.refresh"] == ["success", "denied"]
    officer_rows = [r for r in rows if r.actor == "officer"]
    assert officer_rows and all(r.office == "GB000060" for r in officer_rows)
    assert next(r.count for r in rows if r.action == "declaration.list") >= 1
    # Lodgings are written by the group committer's thread, outside the request: no user agent there.
    assert all(
        r.user_agent == "testclient"
        for r in rows
        if r.actor in ("trader", "officer") and r.action != "declaration.lodge"
    ), [(r.action, r.user_agent) for r in rows if r.user_agent != "testclient"]


def test_refused_actions_leave_no_audited_activity(real: RealApp) -> None:
    """Refused input writes no audit event and so no activity; a refusal by the access policy is
    one denied activity event from the edge (no audit event behind it), and nothing else."""
    services = _services(real)

    def rows() -> list[tuple[str | None, str, str]]:
        with services.session_factory() as session:
            return [
                tuple(r)
                for r in session.execute(select(ActivityRow.audit_event, ActivityRow.action, ActivityRow.outcome))
            ]  # type: ignore[misc]

    before = rows()
    invalid = real.document("gb")
    invalid["items"][0]["gross_mass_kg"] = "heavy"
    r = real.client.post("/api/v1/declarations", content=json.dumps(invalid), headers=real.auth("trader"))
    assert r.status_code in (400, 422), r.text
    assert rows() == before
    foreign = real.document("nl")  # another party's declaration: the access policy refuses it
    r = real.client.post("/api/v1/declarations", content=json.dumps(foreign), headers=real.auth("trader"))
    assert r.status_code == 403, r.text
    assert rows()[len(before) :] == [(None, "declaration.lodge", "denied")]
