"""Fixtures for identity tests; helpers live in identity_env (importable, unlike conftest)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.integration.identity.identity_env import Env, make_env


@pytest.fixture
def env(session_factory: sessionmaker[Session]) -> Env:
    return make_env(session_factory)
