"""Fixtures for API tests; helpers live in api_env (importable, unlike conftest)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from clearguard.identity.clock import FrozenClock
from tests.integration.api.api_env import Api, api_settings, build_app


@pytest.fixture
def api(session_factory: sessionmaker[Session]) -> Api:
    clock = FrozenClock()
    app = build_app(session_factory, clock, api_settings())
    return Api(client=TestClient(app, raise_server_exceptions=False), clock=clock, factory=session_factory)
