"""DutyLock across processes, on SQLite (flock) and PostgreSQL (advisory lock): while one process holds
a duty no other gets it; when the holder is killed (SIGKILL, no clean-up) another takes it; on
PostgreSQL a lost connection reads as not held."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from clearguard import db
from clearguard.duties import DutyLock
from tests.conftest import POSTGRES_URL_VAR

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from clearguard import db
    from clearguard.duties import DutyLock
    lock = DutyLock(db.make_engine(sys.argv[1]), sys.argv[2], var_dir=Path(sys.argv[3]))
    print("held" if lock.try_acquire() else "refused", flush=True)
    time.sleep(600)
    """
)


def _holder(url: str, name: str, var_dir: Path) -> tuple[subprocess.Popen[str], str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, name, str(var_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert child.stdout is not None
    return child, child.stdout.readline().strip()


def _acquire_within(lock: DutyLock, attempts: int = 200) -> bool:
    """The server (or kernel) frees a dead holder's lock shortly after the kill, not at the same instant."""
    for _ in range(attempts):
        if lock.try_acquire():
            return True
        time.sleep(0.05)
    return False


def test_one_process_holds_and_a_killed_holder_frees_the_duty(
    empty_database: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = empty_database
    name = f"duty-{uuid.uuid4().hex[:12]}"  # advisory locks span the database's schemas
    first, said = _holder(url, name, tmp_path)
    try:
        assert said == "held"
        second, said_second = _holder(url, name, tmp_path)
        second.kill()
        second.wait()
        assert said_second == "refused"
        here = DutyLock(engine, name, var_dir=tmp_path)
        assert not here.try_acquire()
        assert not here.held
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert _acquire_within(here)
        assert here.held
        third, said_third = _holder(url, name, tmp_path)
        third.kill()
        third.wait()
        assert said_third == "refused"
        here.release()
        assert not here.held
    finally:
        first.kill()
        first.wait()


@pytest.mark.postgres
def test_postgres_lock_lost_with_its_connection_reads_as_not_held(tmp_path: Path) -> None:
    url = os.environ.get(POSTGRES_URL_VAR)
    if not url:
        pytest.skip(f"{POSTGRES_URL_VAR} not set")
    engine = db.make_engine(url)
    name = f"duty-{uuid.uuid4().hex[:12]}"
    holder = DutyLock(engine, name, var_dir=tmp_path)
    rival = DutyLock(engine, name, var_dir=tmp_path)
    try:
        assert holder.try_acquire()
        assert not rival.try_acquire()
        assert holder.key is not None
        key = holder.key & 0xFFFF_FFFF_FFFF_FFFF
        with engine.connect() as admin:
            # The holder's session, found by its lock, terminated as a network cut or a restart would.
            pid = admin.execute(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
                    " AND classid::bigint = :high AND objid::bigint = :low"
                ),
                {"high": key >> 32, "low": key & 0xFFFF_FFFF},
            ).scalar_one()
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            admin.commit()
        assert _acquire_within(rival)
        assert not holder.held
        holder.release()  # harmless once lost
        assert rival.held
        rival.release()
    finally:
        engine.dispose()
