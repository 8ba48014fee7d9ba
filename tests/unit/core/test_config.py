from pathlib import Path

import pytest
from pydantic import ValidationError

from clearguard.config import Settings
from clearguard.errors import ConfigurationError


def test_defaults_are_the_embedded_sqlite_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLEARGUARD_VAR_DIR", raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite:///var/clearguard.db"
    assert settings.keys_dir == Path("var") / "keys"


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARGUARD_DATABASE_URL", "postgresql+psycopg://cg@db/cg")
    monkeypatch.setenv("CLEARGUARD_MAX_REQUEST_BYTES", "2048")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://cg@db/cg"
    assert settings.max_request_bytes == 2048


def test_toml_file_and_environment_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "site.toml"
    config.write_text('database_url = "sqlite:///elsewhere.db"\nrules_pack = "default"\nmax_request_bytes = 4096\n')
    monkeypatch.setenv("CLEARGUARD_CONFIG", str(config))
    assert Settings().database_url == "sqlite:///elsewhere.db"
    monkeypatch.setenv("CLEARGUARD_MAX_REQUEST_BYTES", "8192")
    settings = Settings()
    assert settings.max_request_bytes == 8192  # the environment wins over the file
    assert settings.database_url == "sqlite:///elsewhere.db"


def test_unknown_keys_and_drivers_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="database_url"):
        Settings(database_url="mysql://x")
    config = tmp_path / "bad.toml"
    config.write_text('databse_url = "sqlite:///typo.db"\n')
    monkeypatch.setenv("CLEARGUARD_CONFIG", str(config))
    with pytest.raises(ValidationError, match="databse_url"):
        Settings()


@pytest.mark.parametrize("secret", [None, "changeme", "secret", ""])
def test_placeholder_secrets_are_refused_outside_dev(secret: str | None) -> None:
    Settings(env="dev", secret_key=secret).check_for_production()
    with pytest.raises(ConfigurationError, match="secret_key"):
        Settings(env="prod", secret_key=secret).check_for_production()


def test_a_real_secret_passes_in_production() -> None:
    Settings(env="prod", secret_key="k3y-" + "x" * 40).check_for_production()
