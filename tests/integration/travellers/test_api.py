"""/api/v1/travellers on the real application: officers of the record's office only, strict bodies,
audited reads with a justification header, every route declaring its permission."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.integration.api.app_env import OTHER_GB_OFFICE, OWN_OFFICE, PEOPLE, RealApp, make_real_app
from tests.integration.travellers.conftest import record_data, template

BASE = "/api/v1/travellers"


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    return make_real_app(engine, database_url)


def body(**changes: Any) -> dict[str, Any]:
    return record_data(**({"office": OWN_OFFICE} | changes))


def test_officer_records_reads_and_lists(real: RealApp) -> None:
    officer = real.auth("officer")
    made = real.client.post(BASE, json=body(), headers=officer)
    assert made.status_code == 201, made.text
    record_id = made.json()["record_id"]
    assert made.headers["location"] == f"{BASE}/{record_id}"
    read = real.client.get(f"{BASE}/{record_id}", headers=officer | {"X-Justification": "desk check"})
    assert read.status_code == 200, read.text
    assert read.json()["document_number"] == "X9Q4ZK27T" and read.json()["template"]["length"] == 128
    full = real.client.get(f"{BASE}/{record_id}?with_template=true", headers=officer | {"X-Justification": "why"})
    assert full.json()["template"] == template(1)
    listed = real.client.get(f"{BASE}?office={OWN_OFFICE}", headers=officer)
    assert listed.status_code == 200 and [i["record_id"] for i in listed.json()["items"]] == [record_id]
    assert "X9Q4ZK27T" not in listed.text
    # No justification, or one in the URL: refused.
    assert real.client.get(f"{BASE}/{record_id}", headers=officer).status_code == 400
    in_url = real.client.get(f"{BASE}/{record_id}?justification=x", headers=officer | {"X-Justification": "y"})
    assert in_url.status_code == 400
    assert real.client.get(f"{BASE}/TRV-{'0' * 24}", headers=officer | {"X-Justification": "y"}).status_code == 404
    # Another office's records: neither recorded nor listed by this officer.
    other = real.client.post(BASE, json=body(office=OTHER_GB_OFFICE), headers=officer)
    assert other.status_code == 403 and other.json()["type"].endswith("traveller-other-office")
    assert real.client.get(f"{BASE}?office={OTHER_GB_OFFICE}", headers=officer).status_code == 403


@pytest.mark.parametrize("role", [r for r in PEOPLE if r != "officer"])
def test_every_other_role_is_refused(real: RealApp, role: str) -> None:
    made = real.client.post(BASE, json=body(), headers=real.auth("officer"))
    record_id = made.json()["record_id"]
    auth = real.auth(role)
    assert real.client.post(BASE, json=body(), headers=auth).status_code == 403
    assert real.client.get(f"{BASE}/{record_id}", headers=auth | {"X-Justification": "x"}).status_code == 403
    assert real.client.get(f"{BASE}?office={OWN_OFFICE}", headers=auth).status_code == 403
    assert real.client.get(f"{BASE}?office={OWN_OFFICE}").status_code == 401


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (json.dumps(body()).replace(str(template(1)[0]), "NaN"), "body"),
        (json.dumps(body()).replace(str(template(1)[0]), "1e400"), "template"),
        (json.dumps(body(template=[True] * 64)), "template"),
        (json.dumps(body(template=[0.5] * 5000)), "template"),
        (json.dumps(body(extra="x")), "extra"),
        (json.dumps(body(nationality="ZZ")), "nationality"),
        ("[]", "record"),
        ("{", "body"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(real: RealApp, raw: str, field: str) -> None:
    officer = real.auth("officer") | {"Content-Type": "application/json"}
    answer = real.client.post(BASE, content=raw.encode(), headers=officer)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field and answer.json()["detail"].startswith(field)
    assert real.client.get(f"{BASE}?office={OWN_OFFICE}", headers=real.auth("officer")).json()["items"] == []


def test_every_route_declares_its_permission(real: RealApp) -> None:
    from clearguard.api.walker import undeclared, walk

    app: Any = real.client.app
    assert undeclared(app) == []
    mine = {(r.path, r.methods): r.permissions for r in walk(app) if r.path.startswith(BASE)}
    assert mine == {
        (BASE, ("POST",)): frozenset({"travellers:record"}),
        (BASE, ("GET",)): frozenset({"travellers:read"}),
        (BASE + "/{record_id}", ("GET",)): frozenset({"travellers:read"}),
    }
