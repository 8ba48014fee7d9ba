"""Database plumbing: read-only sessions never wait for a writer (SQLite WAL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Engine, text

from clearguard import db


def test_readers_do_not_queue_behind_a_writer(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    writers = db.make_session_factory(engine)
    readers = db.make_session_factory(engine, read_only=True)
    holding, release = threading.Event(), threading.Event()

    def write() -> None:
        with writers() as session, session.begin():
            session.execute(text("INSERT INTO t VALUES (2)"))
            holding.set()
            release.wait(10)

    writer = threading.Thread(target=write)
    writer.start()
    assert holding.wait(10)
    with readers() as session:
        # The reader sees the last committed snapshot while the write is still open: had it queued
        # behind the writer, it could only have answered after release (and seen 2). Ordering, not
        # a stopwatch, proves it did not wait.
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
        assert writer.is_alive() and not release.is_set()
    release.set()
    writer.join()
    with readers() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
    engine.dispose()


def test_bulk_insert_writes_what_a_core_insert_writes(engine: Engine) -> None:
    """Same bind processing (JSON, UTC datetimes, bytes, nulls) as SQLAlchemy's own insert, both databases."""
    from sqlalchemy import select

    from clearguard.declarations.tables import DeclarationEventRow, DeclarationRow

    events = DeclarationEventRow.__table__
    now = db.utcnow()
    parent = {"mrn": "26GB000000000000R5", "lrn": "L", "declarant_index": "d", "type": "H1", "office": "GB000120",
              "status": "accepted", "channel": "green", "current_version": 1, "content_index": "c", "pack_ref": "p",
              "created_at": now, "updated_at": now, "created_by": "t"}  # fmt: skip
    other = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))
    rows = [
        {"declaration_id": 1, "version": 1, "from_status": None, "to_status": "lodged", "actor": "ä-actor",
         "role": "trader", "reason": None, "at": now, "ledger_index": None, "salt": b"\x00\xff", "salt_key_id": 7},
        {"declaration_id": 1, "version": 2, "from_status": "lodged", "to_status": "accepted", "actor": "b",
         "role": "system", "reason": "x" * 300, "at": other, "ledger_index": 12, "salt": None, "salt_key_id": None},
    ]  # fmt: skip
    factory = db.make_session_factory(engine)
    with factory() as session, session.begin():
        declaration_id = session.execute(DeclarationRow.__table__.insert().values(parent)).inserted_primary_key[0]
        rows = [r | {"declaration_id": declaration_id} for r in rows]
        db.bulk_insert(session, events, rows)
        session.execute(events.insert(), [r | {"version": r["version"] + 10} for r in rows])
    with factory() as session:
        stored = session.execute(select(events).order_by(events.c.version)).mappings().all()
    bulk, core = [dict(r) for r in stored[:2]], [dict(r) for r in stored[2:]]
    for ours, theirs in zip(bulk, core, strict=True):
        del ours["id"], theirs["id"]
        theirs["version"] -= 10
        assert ours == theirs
    assert bulk[0]["at"] == now and bulk[1]["at"] == other.astimezone(UTC)
    assert bulk[0]["salt"] == b"\x00\xff" and bulk[1]["salt"] is None


def test_bulk_insert_refuses_rows_of_unknown_columns(engine: Engine) -> None:
    import pytest

    from clearguard.declarations.tables import DeclarationEventRow

    with db.make_session_factory(engine)() as session, pytest.raises(ValueError, match="no_such_column"):
        db.bulk_insert(session, DeclarationEventRow.__table__, [{"version": 1, "no_such_column": 2}])


def test_a_driver_statement_answers_as_the_session_does(engine: Engine) -> None:
    """Literals bound at build time, named parameters, result processors (UTC datetimes), RETURNING;
    in the caller's transaction, so a rollback undoes it. Both databases."""
    from sqlalchemy import Integer, bindparam, select, update

    from clearguard.declarations.tables import DeclarationRow

    table = DeclarationRow.__table__
    now = db.utcnow()
    row = {"mrn": "26GB000000000000R5", "lrn": "L", "declarant_index": "d", "type": "H1", "office": "GB000120",
           "status": "accepted", "channel": "green", "current_version": 1, "content_index": "c", "pack_ref": "p",
           "created_at": now, "updated_at": now, "created_by": "t"}  # fmt: skip
    reader = db.DriverStatement(
        select(table.c.mrn, table.c.created_at, table.c.current_version).where(
            table.c.status == "accepted", table.c.lrn == bindparam("lrn")
        )
    )
    bump = db.DriverStatement(
        update(table)
        .where(table.c.lrn == bindparam("which"))
        .values(current_version=table.c.current_version + bindparam("by", type_=Integer))
        .returning(table.c.current_version, table.c.updated_at)
    )
    factory = db.make_session_factory(engine)
    with factory() as session, session.begin():
        session.execute(table.insert().values(row))
        assert reader.rows(session, lrn="L") == [("26GB000000000000R5", now, 1)]
        assert reader.rows(session, lrn="other") == []
        assert bump.rows(session, which="L", by=3) == [(4, now)]
        among = db.DriverStatement(
            select(table.c.lrn).where(table.c.lrn.in_(bindparam("lrns", expanding=True)), table.c.status == "accepted")
        )
        assert among.rows(session, lrns=["x", "L", "y"]) == [("L",)]
        assert among.rows(session, lrns=["x"]) == among.rows(session, lrns=[]) == []
        assert session.execute(select(table.c.current_version)).scalar_one() == 4
        session.rollback()
    with factory() as session, session.begin():
        assert reader.rows(session, lrn="L") == []
