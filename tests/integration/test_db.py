"""Database plumbing: read-only sessions never wait for a writer (SQLite WAL)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

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
    started = time.monotonic()
    with readers() as session:
        # The reader sees the last committed snapshot, at once, while the write is still open.
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    waited = time.monotonic() - started
    release.set()
    writer.join()
    assert waited < 2.0
    with readers() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
    engine.dispose()
