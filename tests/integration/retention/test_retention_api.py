"""Retention API: the DPO's routes (policies, holds, runs), refused to every other role; bad input is
a problem naming the field and changes nothing; a declaration read shows its disposal date, and only
the roles that may know of holds see whether one keeps it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.integration.api.app_env import PEOPLE, RealApp, make_real_app


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    return make_real_app(engine, database_url)


def test_the_dpo_holds_and_runs(real: RealApp) -> None:
    mrn = real.seed("gb")
    dpo = real.auth("dpo")
    policies = real.client.get("/api/v1/retention/policies", headers=dpo)
    assert policies.status_code == 200 and any(p["id"] == "UK-CEMA-4Y" for p in policies.json()["policies"])

    body = {"mrn": mrn, "reason": "appeal", "owner": "legal", "case": "APPEAL-9", "review": "2099-01-31"}
    created = real.client.post("/api/v1/retention/holds", json=body, headers=dpo)
    assert created.status_code == 201, created.text
    hold = created.json()
    assert hold["scope"] == "mrn" and hold["target"] == mrn and hold["case"] == "APPEAL-9"
    assert [h["id"] for h in real.client.get("/api/v1/retention/holds", headers=dpo).json()] == [hold["id"]]

    officer = real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth("officer")).json()
    assert officer["retention"]["policy"] == "UK-CEMA-4Y" and officer["retention"]["held"] is True
    assert officer["retention"]["records"]["risk_records"]["policy"] == "UK-CEMA-4Y-RISK"
    trader = real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth("trader")).json()
    assert trader["retention"]["disposal_due"] == officer["retention"]["disposal_due"]
    assert "held" not in trader["retention"] and "holds" not in trader["retention"]

    dry = real.client.post("/api/v1/retention/runs", json={}, headers=dpo)
    assert dry.status_code == 200 and dry.json()["dry_run"] is True and dry.json()["certificate"] is None

    released = real.client.post(f"/api/v1/retention/holds/{hold['id']}/release", json={"reason": "won"}, headers=dpo)
    assert released.status_code == 200 and released.json()["active"] is False
    again = real.client.post(f"/api/v1/retention/holds/{hold['id']}/release", json={"reason": "x"}, headers=dpo)
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"party": "GB999999999999", "reason": "r", "owner": "o"}, "party"),
        ({"mrn": "26GB00000000000000", "reason": "r", "owner": "o"}, "mrn"),
        ({"reason": "r", "owner": "o"}, "party"),
        ({"case": "C-1", "reason": "r", "owner": "o"}, "case"),
        ({"mrn": "26GB00000000000000", "reason": "r", "owner": "o", "review": "31/12/2030"}, "review"),
        ({"mrn": "26GB00000000000000", "reason": "r", "owner": "o", "color": "red"}, "color"),
    ],
)
def test_bad_holds_name_the_field(real: RealApp, body: dict[str, str], field: str) -> None:
    real.seed("gb")
    r = real.client.post("/api/v1/retention/holds", json=body, headers=real.auth("dpo"))
    assert r.status_code in (400, 422), r.text
    assert field in r.text
    assert real.client.get("/api/v1/retention/holds", headers=real.auth("dpo")).json() == []


def test_other_roles_are_refused(real: RealApp) -> None:
    for role in PEOPLE:
        if role == "dpo":
            continue
        headers = real.auth(role)
        assert real.client.get("/api/v1/retention/policies", headers=headers).status_code == 403, role
        assert real.client.post("/api/v1/retention/runs", json={"dry_run": False}, headers=headers).status_code == 403
