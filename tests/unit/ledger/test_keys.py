"""Key files: created 0600 once, refused when others can read them or when malformed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from clearguard.errors import ConfigurationError
from clearguard.ledger.keys import load_key, load_or_create_key


def _public(key: object) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)  # type: ignore[attr-defined]


def test_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "log.key"
    first = load_or_create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _public(load_or_create_key(path)) == _public(first)


def test_readable_by_others_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    load_or_create_key(path)
    os.chmod(path, 0o640)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_key(path)


def test_malformed_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.key"
    path.write_text("not a key\n")
    os.chmod(path, 0o600)
    with pytest.raises(ConfigurationError):
        load_key(path)
    path.write_text("clearguard ed25519 private key v1\nzz\n")
    with pytest.raises(ConfigurationError):
        load_key(path)
