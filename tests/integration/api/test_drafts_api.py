"""/api/v1/drafts through the real application on both databases: who may use it, the owner alone
reaching a draft (404 for anyone else), saving incomplete documents, lodging a draft (201 and the
draft gone, or 422 with findings and the draft kept), and the body limit of lodging."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.integration.api.app_env import PEOPLE, RealApp, make_real_app

LODGERS = {"trader", "broker"}


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    return make_real_app(engine, database_url)


def test_only_traders_and_brokers_may_use_drafts(real: RealApp) -> None:
    for user in PEOPLE:
        listed = real.client.get("/api/v1/drafts", headers=real.auth(user))
        created = real.client.post("/api/v1/drafts", json={"type": "H1"}, headers=real.auth(user))
        expected = (200, 201) if user in LODGERS else (403, 403)
        assert (listed.status_code, created.status_code) == expected, (user, listed.text, created.text)
    assert real.client.get("/api/v1/drafts").status_code == 401


def test_a_draft_is_its_owners_alone(real: RealApp) -> None:
    doc = real.document("gb")
    made = real.client.post("/api/v1/drafts", json=doc, headers=real.auth("trader"))
    assert made.status_code == 201, made.text
    draft = made.json()
    assert draft["title"] == doc["lrn"]
    url = f"/api/v1/drafts/{draft['id']}"
    mine = real.client.get(url, headers=real.auth("trader"))
    assert mine.status_code == 200 and mine.json()["document"] == doc
    # The broker (mandated by the same trader) is another user: the draft does not exist for it.
    for call in (
        real.client.get(url, headers=real.auth("broker")),
        real.client.put(url, json={}, headers=real.auth("broker")),
        real.client.delete(url, headers=real.auth("broker")),
        real.client.post(url + "/lodge", headers=real.auth("broker")),
    ):
        assert call.status_code == 404, call.text
    assert real.client.get("/api/v1/drafts", headers=real.auth("broker")).json()["items"] == []
    assert [d["id"] for d in real.client.get("/api/v1/drafts", headers=real.auth("trader")).json()["items"]] == [
        draft["id"]
    ]
    assert real.client.get("/api/v1/drafts/no-such-draft", headers=real.auth("trader")).status_code == 404
    assert real.client.delete(url, headers=real.auth("trader")).status_code == 204
    assert real.client.get(url, headers=real.auth("trader")).status_code == 404


def test_an_incomplete_draft_is_saved_updated_and_lodged_once_complete(real: RealApp) -> None:
    made = real.client.post("/api/v1/drafts", json={"type": "H1"}, headers=real.auth("trader")).json()
    url = f"/api/v1/drafts/{made['id']}"
    refused = real.client.post(url + "/lodge", headers=real.auth("trader"))
    assert refused.status_code == 422 and refused.json()["findings"], refused.text
    assert real.client.get(url, headers=real.auth("trader")).status_code == 200  # kept
    doc = real.document("gb")
    assert real.client.put(url, json=doc, headers=real.auth("trader")).json()["title"] == doc["lrn"]
    lodged = real.client.post(url + "/lodge", headers=real.auth("trader"))
    assert lodged.status_code == 201, lodged.text
    mrn = lodged.json()["mrn"]
    assert real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth("trader")).status_code == 200
    assert real.client.get(url, headers=real.auth("trader")).status_code == 404


def test_a_broker_cannot_lodge_a_draft_for_a_trader_without_mandate(real: RealApp) -> None:
    doc = real.document("nl")  # the NL trader gave the broker no mandate
    made = real.client.post("/api/v1/drafts", json=doc, headers=real.auth("broker")).json()
    refused = real.client.post(f"/api/v1/drafts/{made['id']}/lodge", headers=real.auth("broker"))
    assert refused.status_code == 403, refused.text
    assert real.client.get(f"/api/v1/drafts/{made['id']}", headers=real.auth("broker")).status_code == 200


def test_bad_bodies_are_refused_with_a_clear_error(real: RealApp) -> None:
    headers = {**real.auth("trader"), "Content-Type": "application/json"}
    for body in (b"[1, 2]", b"{not json", b"\xff\xfe"):
        answer = real.client.post("/api/v1/drafts", content=body, headers=headers)
        assert answer.status_code == 400, (body, answer.text)
    huge = b'{"note": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert real.client.post("/api/v1/drafts", content=huge, headers=headers).status_code in (400, 413)
    assert real.client.get("/api/v1/drafts", headers=real.auth("trader")).json()["items"] == []
