"""Shredding a trader clears its blind index from the activity store in the shred's transaction:
the trader's activity no longer names it; the staff's activity stays."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select

from clearguard.db import transaction
from clearguard.detection.tables import ActivityRow
from tests.integration.api.app_env import GB_TRADER, RealApp
from tests.integration.detection.env import security_app, services_of


@pytest.fixture
def real(engine: Engine, database_url: str) -> RealApp:
    return security_app(engine, database_url)


def test_a_shredded_trader_is_named_nowhere_in_the_activity_store(real: RealApp) -> None:
    r = real.client.post("/api/v1/declarations", content=json.dumps(real.document("gb")), headers=real.auth("trader"))
    assert r.status_code == 201, r.text
    mrn = r.json()["mrn"]
    assert real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth("officer")).status_code == 200
    services = services_of(real)
    index = services.vault.blind_index("eori", GB_TRADER)
    with services.session_factory() as session:
        named = session.execute(select(ActivityRow.action).where(ActivityRow.party == index)).scalars().all()
    assert {"declaration.lodge", "auth.login"} <= set(named)  # the lodging, and the trader's own sign-in
    with transaction(services.session_factory) as session:
        services.key_service().shred(session, services.erasure.trader_reference(GB_TRADER))
    with services.session_factory() as session:
        assert session.execute(select(ActivityRow.id).where(ActivityRow.party == index)).first() is None
        actions = session.execute(select(ActivityRow.action).where(ActivityRow.actor == "officer")).scalars().all()
    assert "declaration.read" in actions  # the officer's read is still staff activity
