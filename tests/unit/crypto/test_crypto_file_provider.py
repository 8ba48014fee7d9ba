"""File key provider and key files: creation mode, refusal of readable files, missing files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from clearguard.crypto import envelope
from clearguard.crypto.errors import DecryptionFailed, InsecureKeyFile, KeyUnavailable
from clearguard.crypto.keyfiles import write_key_file
from clearguard.crypto.providers import FileKeyProvider


def test_create_kek_is_0600_and_idempotent(tmp_path: Path) -> None:
    provider = FileKeyProvider(tmp_path / "keys")
    assert provider.create_kek(1) is True
    before = provider.path(1).read_bytes()
    assert provider.create_kek(1) is False
    assert provider.path(1).read_bytes() == before
    assert stat.S_IMODE(provider.path(1).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700


def test_wrap_unwrap_and_versions_differ(tmp_path: Path) -> None:
    provider = FileKeyProvider(tmp_path)
    provider.create_kek(1)
    provider.create_kek(2)
    key = envelope.new_key()
    wrapped = provider.wrap(1, key, b"aad")
    assert provider.unwrap(1, wrapped, b"aad") == key
    with pytest.raises(DecryptionFailed):
        provider.unwrap(2, wrapped, b"aad")


def test_readable_key_file_refused(tmp_path: Path) -> None:
    provider = FileKeyProvider(tmp_path)
    provider.create_kek(1)
    os.chmod(provider.path(1), 0o644)
    with pytest.raises(InsecureKeyFile, match="chmod 600"):
        provider.wrap(1, envelope.new_key(), b"")


def test_missing_key_file_is_clear(tmp_path: Path) -> None:
    provider = FileKeyProvider(tmp_path)
    with pytest.raises(KeyUnavailable, match=r"kek-v0003\.key is missing: run `clearguard keys init`"):
        provider.unwrap(3, b"\x01" + bytes(60), b"")


def test_corrupt_key_file_is_clear(tmp_path: Path) -> None:
    assert write_key_file(tmp_path / "kek-v0001.key", b"short")
    with pytest.raises(KeyUnavailable, match="corrupt"):
        FileKeyProvider(tmp_path).wrap(1, envelope.new_key(), b"")


def test_replaced_key_file_is_wrong_key(tmp_path: Path) -> None:
    provider = FileKeyProvider(tmp_path)
    provider.create_kek(1)
    wrapped = provider.wrap(1, envelope.new_key(), b"aad")
    provider.path(1).unlink()
    fresh = FileKeyProvider(tmp_path)
    fresh.create_kek(1)
    with pytest.raises(DecryptionFailed, match="does not authenticate"):
        fresh.unwrap(1, wrapped, b"aad")
