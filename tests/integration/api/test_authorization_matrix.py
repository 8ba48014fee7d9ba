"""Authorization matrix: every role x every declarations route x own party / other party / other
office, each asserting the exact status.

Records: OWN = the GB trader's H1 at the officer's office; OTHER_PARTY = the NL trader's H7 at an NL
office (another party and another office); OTHER_OFFICE = the GB trader's H1 at another GB office
(own party, other office). The broker holds a current mandate from the GB trader.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from tests.integration.api.app_env import OTHER_GB_OFFICE, PEOPLE, RealApp, make_real_app

ROLES = list(PEOPLE)
KINDS = ("own", "other_party", "other_office")

# GET /api/v1/declarations/{mrn}
READ = {
    "trader": (200, 404, 200),
    "broker": (200, 404, 200),
    "officer": (200, 403, 403),  # another office: break-glass required
    "analyst": (200, 200, 200),
    "auditor": (200, 200, 200),
    "dpo": (403, 403, 403),
    "admin": (403, 403, 403),
    "partner": (403, 403, 403),
}
# POST /api/v1/declarations/{mrn}/amendments
AMEND = {
    "trader": (201, 404, 201),
    "broker": (201, 404, 201),
    **{r: (403, 403, 403) for r in ("officer", "analyst", "auditor", "dpo", "admin", "partner")},
}
# POST /api/v1/declarations/{mrn}/decisions
DECIDE = {
    "officer": (200, 403, 403),
    **{r: (403, 403, 403) for r in ("trader", "broker", "analyst", "auditor", "dpo", "admin", "partner")},
}
# POST /api/v1/declarations: (for own or mandating party, for another party)
LODGE = {
    "trader": (201, 403),
    "broker": (201, 403),
    **{r: (403, 403) for r in ("officer", "analyst", "auditor", "dpo", "admin", "partner")},
}
LIST = {r: 200 for r in ("trader", "broker", "officer", "analyst", "auditor")} | {
    r: 403 for r in ("dpo", "admin", "partner")
}


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    return make_real_app(engine, database_url)


def records(real: RealApp) -> dict[str, str]:
    return {
        "own": real.seed("gb"),
        "other_party": real.seed("nl"),
        "other_office": real.seed("gb", office=OTHER_GB_OFFICE),
    }


def source_doc(real: RealApp, kind: str) -> dict[str, Any]:
    return real.document(
        "nl" if kind == "other_party" else "gb", office=OTHER_GB_OFFICE if kind == "other_office" else None
    )


def test_matrix(real: RealApp) -> None:
    failures: list[str] = []

    def check(label: str, got: int, want: int) -> None:
        if got != want:
            failures.append(f"{label}: got {got}, want {want}")

    for role in ROLES:
        auth = real.auth(role)
        mrns = records(real)
        for i, kind in enumerate(KINDS):
            r = real.client.get(f"/api/v1/declarations/{mrns[kind]}", headers=auth)
            check(f"{role} read {kind}", r.status_code, READ[role][i])
        for i, kind in enumerate(KINDS):
            doc = source_doc(real, kind)
            # The record's own LRN (an auditor's view withholds LRNs now: issue 13, item 8).
            doc["lrn"] = real.declarations.header(mrns[kind]).lrn
            doc["items"][0]["description"] = "Amended description"
            r = real.client.post(
                f"/api/v1/declarations/{mrns[kind]}/amendments",
                json={"reason": "corrected description", "declaration": doc},
                headers=auth,
            )
            check(f"{role} amend {kind}", r.status_code, AMEND[role][i])
        for i, kind in enumerate(KINDS):
            r = real.client.post(
                f"/api/v1/declarations/{mrns[kind]}/decisions",
                json={"decision": "release", "reason": "documents checked"},
                headers=auth,
            )
            check(f"{role} decide {kind}", r.status_code, DECIDE[role][i])
        for i, kind in enumerate(("gb", "nl")):
            r = real.client.post("/api/v1/declarations", json=real.document(kind), headers=auth)
            check(f"{role} lodge {kind}", r.status_code, LODGE[role][i])
        r = real.client.get("/api/v1/declarations", headers=auth)
        check(f"{role} list", r.status_code, LIST[role])
        r = real.client.get("/api/v1/auth/me", headers=auth)
        check(f"{role} me", r.status_code, 200)
    assert not failures, "\n".join(failures)


def test_unauthenticated_gets_401_everywhere_but_health(real: RealApp) -> None:
    mrn = real.seed("gb")
    calls = [
        ("GET", "/api/v1/declarations"),
        ("GET", f"/api/v1/declarations/{mrn}"),
        ("POST", "/api/v1/declarations"),
        ("POST", f"/api/v1/declarations/{mrn}/amendments"),
        ("POST", f"/api/v1/declarations/{mrn}/decisions"),
        ("GET", "/api/v1/auth/me"),
        ("POST", "/api/v1/auth/logout"),
    ]
    for method, path in calls:
        r = real.client.request(method, path, json={})
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.headers["content-type"] == "application/problem+json"
    assert real.client.get("/health").status_code == 200


def test_list_shows_only_what_the_role_may_see(real: RealApp) -> None:
    mrns = records(real)

    def listed(role: str) -> set[str]:
        r = real.client.get("/api/v1/declarations", headers=real.auth(role))
        return {item["mrn"] for item in r.json()["items"]}

    assert listed("trader") == {mrns["own"], mrns["other_office"]}
    assert listed("broker") == {mrns["own"], mrns["other_office"]}
    assert listed("officer") == {mrns["own"]}
    assert listed("auditor") == set(mrns.values())


def test_redaction_by_role_over_http(real: RealApp) -> None:
    mrn = real.seed("gb")

    def doc(role: str) -> dict[str, Any]:
        r = real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth(role))
        assert r.status_code == 200
        return dict(r.json())

    assert doc("officer")["document"]["seller"]["name"]
    assert doc("broker")["document"]["seller"]["name"]
    assert "name" not in doc("analyst")["document"]["seller"]
    auditor = doc("auditor")
    assert auditor["document"] == {} and auditor["mrn"] == mrn
    for role in ("trader", "broker"):
        body = doc(role)
        assert not {"risk", "risk_score", "risk_reasons", "score", "reasons"} & body.keys()


def test_break_glass_over_http(real: RealApp) -> None:
    mrn = real.seed("nl")
    r = real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth("officer"))
    assert r.status_code == 403 and r.json()["type"] == "urn:clearguard:problem:break-glass-required"
    r = real.client.get(
        f"/api/v1/declarations/{mrn}",
        headers=real.auth("officer") | {"X-Justification": "Joint investigation request NL-2026-004"},
    )
    assert r.status_code == 200 and r.json()["break_glass"] is True


def test_officer_decision_needs_step_up(real: RealApp) -> None:
    from clearguard.identity import totp

    mrn = real.seed("gb")
    real.clock.advance(301)
    auth = real.auth("officer")
    body = {"decision": "hold", "reason": "awaiting certificate"}
    r = real.client.post(f"/api/v1/declarations/{mrn}/decisions", json=body, headers=auth)
    assert r.status_code == 401 and r.json()["type"] == "urn:clearguard:problem:step-up-required"
    code = totp.code_at(real.secrets["officer"], real.clock.now())
    assert real.client.post("/api/v1/auth/step-up/totp", json={"code": code}, headers=auth).status_code == 204
    r = real.client.post(f"/api/v1/declarations/{mrn}/decisions", json=body, headers=auth)
    assert r.status_code == 200 and r.json()["status"] == "held"


def test_real_app_routes_all_declare_permissions(real: RealApp) -> None:
    from fastapi import FastAPI

    from clearguard.api.walker import public_routes, undeclared
    from tests.integration.api.test_plumbing import ALLOWED_PUBLIC

    app = real.client.app
    assert isinstance(app, FastAPI)
    assert undeclared(app) == []
    public = {r.path for r in public_routes(app)}
    # Open without a token: health, the login steps, and the transparency log that DESIGN.md
    # publishes for offline verification (tiles, checkpoint, key; witness cosigning by signature).
    assert public >= ALLOWED_PUBLIC
    # ...and the portal's sign-in pages and static files, public in its one permission table.
    from clearguard.access.roles import Perm
    from clearguard.portal.permissions import PAGES

    portal_public = {p.path for p in PAGES if p.permission == Perm.PUBLIC}
    assert {p for p in public - ALLOWED_PUBLIC - portal_public if not p.startswith("/ledger/")} == set()
