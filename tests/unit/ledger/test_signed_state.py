"""The signed-state file: private, durable, monotonic, shared between processes through the file."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from clearguard.ledger.errors import LedgerError
from clearguard.ledger.signed_state import LogRolledBack, SignedState


def h(n: int) -> bytes:
    return hashlib.sha256(str(n).encode()).digest()


def test_record_is_private_monotonic_and_seen_by_other_instances(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "ledger-signed-state.json"
    one, other = SignedState(path), SignedState(path)
    assert one.current().size == 0 and one.epoch() == 0
    one.record_signed(5, h(5), "note 5")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (other.current().size, other.current().root) == (5, h(5))
    other.record_signed(9, h(9), "note 9")
    assert one.current().size == 9  # re-read: the file changed under it
    one.record_signed(9, h(9), "note 9 again")  # the same size and root again is no fork
    with pytest.raises(LogRolledBack):
        one.record_signed(9, h(99), "fork")
    with pytest.raises(LogRolledBack):
        one.record_signed(4, h(4), "back")
    one.adopt(3, h(3), "older")  # never moves back
    assert one.current().size == 9
    one.adopt(12, h(12), "found in the database")
    assert other.current().size == 12


def test_restore_bumps_the_epoch_and_records_the_loss(tmp_path: Path) -> None:
    state = SignedState(tmp_path / "s.json")
    state.record_signed(10, h(10), "n")
    assert state.record_restore(None).epoch == 1  # nothing lost: only the epoch moves
    after = state.record_restore(6)
    assert after.epoch == 2 and after.accepted_loss
    assert [(r.start, r.end, r.epoch) for r in after.losses] == [(6, 10, 2)]
    assert "entries 6..9 lost by restore 2" in str(after.losses[0])
    state.record_signed(12, h(12), "continued")
    assert not state.current().accepted_loss and state.current().losses == after.losses


def test_index_already_signed_is_refused(tmp_path: Path) -> None:
    state = SignedState(tmp_path / "s.json")
    state.record_signed(10, h(10), "n")
    state.check_index(10)
    with pytest.raises(LogRolledBack, match="--accept-loss"):
        state.check_index(9)


def test_damaged_file_is_a_ledger_error(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{not json")
    with pytest.raises(LedgerError, match="not a ledger signed-state file"):
        SignedState(path).current()
