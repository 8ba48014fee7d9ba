from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clearguard.config import Settings
from clearguard.crypto import CryptoService, build_crypto_service, init_keys
from clearguard.crypto.setup import load_backup_key


@pytest.fixture
def backup_settings(tmp_path: Path) -> Settings:
    settings = Settings(var_dir=tmp_path / "var")
    init_keys(settings)
    return settings


@pytest.fixture
def backup_key(backup_settings: Settings) -> bytes:
    return load_backup_key(backup_settings)


@pytest.fixture
def backup_vault(backup_settings: Settings) -> Iterator[CryptoService]:
    service = build_crypto_service(backup_settings)
    yield service
    service.close()
