"""Issue 13 item 3: an amendment that changes office_of_presentation is refused with a finding, through
the real application (build_services), on SQLite and PostgreSQL; the declaration stays where it was."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.integration.api.app_env import OTHER_GB_OFFICE, OWN_OFFICE, RealApp, make_real_app


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    return make_real_app(engine, database_url)


def test_amendment_moving_the_office_is_refused_and_changes_nothing(real: RealApp) -> None:
    mrn = real.seed("gb")  # presented at OWN_OFFICE, under control there
    moved = real.document("gb", office=OTHER_GB_OFFICE)
    moved["lrn"] = real.declarations.header(mrn).lrn
    r = real.client.post(
        f"/api/v1/declarations/{mrn}/amendments",
        json={"declaration": moved, "reason": "goods arrive at another port"},
        headers=real.auth("trader"),
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    [finding] = problem["findings"]
    assert finding["rule_id"] == "CG-AMEND-001" and finding["pointer"] == "/office_of_presentation"
    assert OWN_OFFICE in finding["message"] and "invalidate" in finding["message"]
    header = real.declarations.header(mrn)
    assert (header.office, header.version, header.status) == (OWN_OFFICE, 1, "under_control")
    # The office's officer still holds it.
    assert real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth("officer")).status_code == 200
    # An amendment that keeps the office goes through as before.
    kept = dict(moved, office_of_presentation=OWN_OFFICE)
    r = real.client.post(
        f"/api/v1/declarations/{mrn}/amendments",
        json={"declaration": kept, "reason": "corrected description"},
        headers=real.auth("trader"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2 and real.declarations.header(mrn).office == OWN_OFFICE
