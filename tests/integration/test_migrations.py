"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from clearguard import migrate
from clearguard.tables import metadata


def test_upgrade_head_matches_the_models(empty_database: tuple[str, Engine]) -> None:
    _url, engine = empty_database
    migrate.upgrade(engine)
    assert migrate.current(engine) is not None
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == [], differences


def test_upgrade_is_idempotent(empty_database: tuple[str, Engine]) -> None:
    _url, engine = empty_database
    migrate.upgrade(engine)
    first = migrate.current(engine)
    migrate.upgrade(engine)
    assert migrate.current(engine) == first
