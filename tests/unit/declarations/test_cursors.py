"""Opaque list cursors (issue 13, items 10 and 12): sealed, authenticated, bound to the key."""

from __future__ import annotations

import os

import pytest

from clearguard.crypto.blind import BlindIndexer
from clearguard.declarations.cursors import BadCursor, open_cursor, seal_cursor


class Vault:
    """The one method cursors use of the field vault, over the real keyed blind index."""

    def __init__(self) -> None:
        self._indexer = BlindIndexer(os.urandom(32))

    def blind_index(self, kind: str, value: str) -> str:
        return self._indexer.index(kind, value)


def test_round_trip_and_nothing_to_read() -> None:
    keys = Vault()
    for row_id in (1, 17, 2**40, 2**63 - 1):
        cursor = seal_cursor(keys, row_id)
        assert open_cursor(keys, cursor) == row_id
        # Same length whatever the id (no magnitude shows), and a fresh nonce each time.
        assert len(cursor) == 50 and seal_cursor(keys, row_id) != cursor


def test_another_key_or_any_change_is_refused_as_422_naming_cursor() -> None:
    keys, other = Vault(), Vault()
    cursor = seal_cursor(keys, 42)
    with pytest.raises(BadCursor) as caught:
        open_cursor(other, cursor)
    assert caught.value.status == 422 and caught.value.field == "cursor" and caught.value.exit_code == 2
    for i in range(len(cursor)):
        changed = cursor[:i] + ("A" if cursor[i] != "A" else "B") + cursor[i + 1 :]
        with pytest.raises(BadCursor):
            open_cursor(keys, changed)
    for junk in ("", "=", "MTc", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "é", cursor + "A" * 40):
        with pytest.raises(BadCursor):
            open_cursor(keys, junk)
