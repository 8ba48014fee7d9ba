"""Migration 0013 on both databases: up from 0012 creates the tables and the shipped catalogue,
down removes them again, and up once more works."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect, text

from clearguard import migrate
from clearguard.training import CATALOGUE


def _downgrade(engine: Engine, revision: str) -> None:
    config = migrate.alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _tables(engine: Engine) -> set[str]:
    inspector = inspect(engine)
    return {t for t in inspector.get_table_names() if t.startswith("training_")}


def test_0013_up_down_up(empty_database: tuple[str, Engine]) -> None:
    _url, engine = empty_database
    migrate.upgrade(engine, "0012")
    assert _tables(engine) == set()
    migrate.upgrade(engine, "0013")
    assert migrate.current(engine) == "0013"
    assert _tables(engine) == {"training_courses", "training_completions"}
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT slug, required_for_privileged FROM training_courses")).all())
    assert {slug: bool(flag) for slug, flag in stored.items()} == {
        c.slug: c.required_for_privileged for c in CATALOGUE.values()
    }
    indexes = {i["name"] for i in inspect(engine).get_indexes("training_completions")}
    assert "ix_training_completions_user_course_expires" in indexes
    _downgrade(engine, "0012")
    assert migrate.current(engine) == "0012"
    assert _tables(engine) == set()
    migrate.upgrade(engine)
    assert _tables(engine) == {"training_courses", "training_completions"}
