"""Migration 0014 on both databases: up from 0013 creates declaration_drafts with its indexes, down
removes it, and up once more works."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from clearguard import migrate


def _downgrade(engine: Engine, revision: str) -> None:
    config = migrate.alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _has_drafts(engine: Engine) -> bool:
    return "declaration_drafts" in inspect(engine).get_table_names()


def test_0014_up_down_up(empty_database: tuple[str, Engine]) -> None:
    _url, engine = empty_database
    migrate.upgrade(engine, "0013")
    assert not _has_drafts(engine)
    migrate.upgrade(engine, "0014")
    assert migrate.current(engine) == "0014"
    assert _has_drafts(engine)
    columns = {c["name"]: c for c in inspect(engine).get_columns("declaration_drafts")}
    assert set(columns) == {
        "id", "owner", "created_at", "updated_at", "title", "sealed", "key_id", "declarant_index"
    }  # fmt: skip
    assert columns["declarant_index"]["nullable"] and not columns["sealed"]["nullable"]
    indexes = {i["name"] for i in inspect(engine).get_indexes("declaration_drafts")}
    expected = {"ix_declaration_drafts_owner", "ix_declaration_drafts_declarant", "ix_declaration_drafts_updated"}
    assert expected <= indexes
    _downgrade(engine, "0013")
    assert migrate.current(engine) == "0013"
    assert not _has_drafts(engine)
    migrate.upgrade(engine)
    assert _has_drafts(engine)
