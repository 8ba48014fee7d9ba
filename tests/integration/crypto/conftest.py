"""Fixtures for the crypto capability: initialised key directories and a SoftHSM2 token.

The SoftHSM token is created here, in a temporary directory of its own, unless .ci/softhsm.sh already
exported one (SOFTHSM2_CONF and CLEARGUARD_TEST_PKCS11_*). The tests skip only when SoftHSM2 is not
installed at all.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from clearguard.config import Settings
from clearguard.crypto import CryptoService, build_crypto_service, init_keys

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")


@dataclass(frozen=True)
class Token:
    module: str
    label: str
    pin: str


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Token:
    module = os.environ.get("CLEARGUARD_TEST_PKCS11_MODULE", str(SOFTHSM_MODULE))
    if not Path(module).exists():
        pytest.skip(f"SoftHSM2 not installed ({module}): run .ci/softhsm.sh")
    label = os.environ.get("CLEARGUARD_TEST_PKCS11_TOKEN")
    pin = os.environ.get("CLEARGUARD_TEST_PKCS11_PIN")
    if os.environ.get("SOFTHSM2_CONF") and label and pin:
        return Token(module, label, pin)
    util = shutil.which("softhsm2-util")
    assert util is not None, "softhsm2-util missing although the module is installed"
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    # Set before python-pkcs11 first loads the module: SoftHSM reads it once, at C_Initialize.
    os.environ["SOFTHSM2_CONF"] = str(conf)
    label, pin = "clearguard-test", "1234"
    subprocess.run(
        [util, "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "12345678"],
        check=True,
        capture_output=True,
    )
    return Token(module, label, pin)


def file_settings(var_dir: Path, **extra: object) -> Settings:
    return Settings(var_dir=var_dir, crypto_key_cache_seconds=60.0, **extra)  # type: ignore[arg-type]


@pytest.fixture
def key_settings(tmp_path: Path) -> Settings:
    settings = file_settings(tmp_path / "var")
    init_keys(settings)
    return settings


@pytest.fixture
def hsm_settings(tmp_path: Path, softhsm: Token) -> Settings:
    settings = Settings(
        var_dir=tmp_path / "var",
        crypto_provider="pkcs11",
        crypto_pkcs11_module=softhsm.module,
        crypto_pkcs11_token=softhsm.label,
        crypto_pkcs11_pin=SecretStr(softhsm.pin),
        # Every test gets KEKs of its own on the shared token.
        crypto_pkcs11_label=f"cg-{uuid.uuid4().hex[:10]}",
    )
    init_keys(settings)
    return settings


@pytest.fixture
def vault(key_settings: Settings) -> Iterator[CryptoService]:
    service = build_crypto_service(key_settings)
    yield service
    service.close()
