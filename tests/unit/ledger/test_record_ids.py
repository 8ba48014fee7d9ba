"""Opaque record ids and the record key they are made with."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from clearguard.errors import ConfigurationError
from clearguard.ledger.commitment import RecordIds, decode_entry
from clearguard.ledger.errors import EntryError
from clearguard.ledger.keys import load_or_create_record_key

KEY = bytes(range(32))
SALT = b"s" * 32


def test_ids_are_keyed_per_record_and_fit_an_entry() -> None:
    ids = RecordIds(KEY)
    one = ids.opaque("declaration.version", "26GB00000000000012/1", SALT)
    assert one == ids.opaque("declaration.version", "26GB00000000000012/1", SALT)
    assert len(one) == 32 and int(one, 16) >= 0
    others = {
        ids.opaque("declaration.version", "26GB00000000000012/2", SALT),
        ids.opaque("declaration.transition", "26GB00000000000012/1", SALT),
        ids.opaque("declaration.version", "26GB00000000000012/1", b"t" * 32),
        RecordIds(bytes(32)).opaque("declaration.version", "26GB00000000000012/1", SALT),
    }
    assert one not in others and len(others) == 4
    assert "26GB" not in one
    entry = f"clearguard/entry/v1\ndeclaration.event\n{one}\n{'A' * 43}=\n".encode()
    assert decode_entry(entry).record_id == one


def test_a_short_key_is_refused() -> None:
    with pytest.raises(EntryError):
        RecordIds(b"short")


def test_the_record_key_file_is_private_stable_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "ledger-record.key"
    key = load_or_create_record_key(path)
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_record_key(path) == key
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_or_create_record_key(path)
    os.chmod(path, 0o600)
    path.write_text("not a key\n")
    with pytest.raises(ConfigurationError, match="not a clearguard ledger record key"):
        load_or_create_record_key(path)
