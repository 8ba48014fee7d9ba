"""DutyLock's pure parts, and its SQLite file lock within one process (two holders in one process are
two open file descriptions, which flock keeps apart as it does two processes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearguard import db
from clearguard.duties import DutyLock, advisory_key
from clearguard.errors import InputError


def test_advisory_key_is_stable_signed_64_bit_and_distinct_per_name() -> None:
    key = advisory_key("ledger-signer")
    assert key == advisory_key("ledger-signer")
    assert -(2**63) <= key < 2**63
    assert key != advisory_key("self-audit")
    # Two instances in two schemas of one PostgreSQL database hold their duties apart.
    assert advisory_key("ledger-signer", "tenant_a") != advisory_key("ledger-signer", "tenant_b")


@pytest.mark.parametrize("name", ["", "../etc/passwd", "Ledger", "a/b", "x" * 65, "ledger signer"])
def test_names_that_could_escape_the_lock_folder_are_refused(tmp_path: Path, name: str) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(InputError, match="duty lock name"):
        DutyLock(engine, name, var_dir=tmp_path)


def test_sqlite_lock_admits_one_holder_and_is_reusable_after_release(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    first = DutyLock(engine, "ledger-signer", var_dir=tmp_path)
    second = DutyLock(engine, "ledger-signer", var_dir=tmp_path)
    other_duty = DutyLock(engine, "self-audit", var_dir=tmp_path)
    assert first.try_acquire()
    assert first.held
    assert first.try_acquire()  # holding already: still True, still one holder
    assert not second.try_acquire()
    assert not second.held
    assert other_duty.try_acquire()
    first.release()
    assert not first.held
    assert second.try_acquire()
    second.release()
    other_duty.release()
    assert (tmp_path / "locks" / "ledger-signer.lock").stat().st_mode & 0o077 == 0
