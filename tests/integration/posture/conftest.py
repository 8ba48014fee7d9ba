from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.integration.posture.env import AuditEnv, audit_env


@pytest.fixture
def env(engine: Engine, database_url: str) -> Iterator[AuditEnv]:
    # The CLI and the server create every file private (clearguard.runtime.private_files); so here.
    umask = os.umask(0o077)
    try:
        made = audit_env(engine, database_url)
        yield made
        made.services.vault.close()
    finally:
        os.umask(umask)
