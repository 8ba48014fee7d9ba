"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL runs when CLEARGUARD_TEST_POSTGRES_URL is set; each test gets a schema of its own,
created empty and dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from clearguard import db
from clearguard.tables import metadata

POSTGRES_URL_VAR = "CLEARGUARD_TEST_POSTGRES_URL"


@pytest.fixture(autouse=True)
def _own_var_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets a var dir of its own (keys, tiles, models), never the checkout's var/."""
    monkeypatch.setenv("CLEARGUARD_VAR_DIR", str(tmp_path_factory.mktemp("var")))


def _sqlite_engine(tmp_path: Path) -> Engine:
    return db.make_engine(f"sqlite:///{tmp_path / 'test.db'}")


def _postgres_engine(url: str, schema: str) -> Engine:
    admin = db.make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    engine = db.make_engine(url)

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET search_path TO "{schema}"')
        cursor.close()
        dbapi_connection.commit()

    return engine


def _drop_schema(url: str, schema: str) -> None:
    admin = db.make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """(url, engine) of an empty database: a fresh SQLite file, or a fresh PostgreSQL schema.
    The url carries the schema, so a child process or the CLI lands in the same place."""
    if request.param == "sqlite":
        engine = _sqlite_engine(tmp_path)
        yield engine.url.render_as_string(hide_password=False), engine
        engine.dispose()
        return
    url = os.environ.get(POSTGRES_URL_VAR)
    if not url:
        pytest.skip(f"{POSTGRES_URL_VAR} not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = _postgres_engine(url, schema)
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}", engine
    finally:
        engine.dispose()
        _drop_schema(url, schema)


@pytest.fixture
def database_url_and_engine(empty_database: tuple[str, Engine]) -> tuple[str, Engine]:
    """(url, engine) with every table created."""
    metadata.create_all(empty_database[1])
    return empty_database


@pytest.fixture
def engine(database_url_and_engine: tuple[str, Engine]) -> Engine:
    return database_url_and_engine[1]


@pytest.fixture
def database_url(database_url_and_engine: tuple[str, Engine]) -> str:
    return database_url_and_engine[0]


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return db.make_session_factory(engine)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (CLEARGUARD_NO_SKIPS=1) a skipped test fails the run: PostgreSQL and HSM tests must run."""
    if not os.environ.get("CLEARGUARD_NO_SKIPS"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        for report in skipped:
            reporter.write_line(f"SKIPPED IN CI: {report.nodeid}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
