"""The instance's sharing keys: made once by init (0600), one pseudonym key per partner."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from clearguard.config import Settings
from clearguard.crypto import InsecureKeyFile, init_keys
from clearguard.crypto.tls import init_tls
from clearguard.sharing.keys import init_sharing_keys, load_sharing_keys


def test_made_once_private_and_distinct_per_partner(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var")
    init_keys(settings)
    init_tls(settings.keys_dir)
    assert len(init_sharing_keys(settings)) == 4
    assert init_sharing_keys(settings) == []  # idempotent: keys are never replaced
    for name in ("sharing-signing.jwk", "sharing-encryption.jwk", "sharing-pseudonym.wrapped"):
        assert stat.S_IMODE((settings.keys_dir / name).stat().st_mode) == 0o600
    keys = load_sharing_keys(settings)
    assert keys.signing.is_private and keys.kid == load_sharing_keys(settings).kid
    first, second = keys.pseudonym_key("partner-a-kid"), keys.pseudonym_key("partner-b-kid")
    assert len(first) == 32 and first != second and first == keys.pseudonym_key("partner-a-kid")
    assert keys.pseudonym_secret not in (first, second)
    (settings.keys_dir / "sharing-signing.jwk").chmod(0o644)
    with pytest.raises(InsecureKeyFile):
        load_sharing_keys(settings)
