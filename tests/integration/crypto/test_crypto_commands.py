"""`clearguard keys ...` and `clearguard backup ...` through Typer, against a SQLite file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clearguard import db
from clearguard.backup.commands import backup_app
from clearguard.config import Settings
from clearguard.crypto.commands import keys_app
from clearguard.crypto.fields import ERASED, FieldRef
from clearguard.crypto.setup import build_crypto_service
from clearguard.declarations import parties
from clearguard.tables import metadata

runner = CliRunner()
REF = FieldRef("declarations", "r1", "seller.name", 1)


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLEARGUARD_CONFIG", raising=False)
    url = f"sqlite:///{tmp_path / 'var' / 'cg.db'}"
    monkeypatch.setenv("CLEARGUARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CLEARGUARD_DATABASE_URL", url)
    engine = db.make_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    return Settings()


def seal_one(settings: Settings, party: str) -> tuple[int, bytes]:
    service = build_crypto_service(settings)
    engine = db.make_engine(settings.database_url)
    try:
        with db.transaction(db.make_session_factory(engine)) as session:
            key_id = service.key_for_party(session, parties.resolve(service, party))
            return key_id, service.seal(session, key_id, REF, "Jane Doe")
    finally:
        engine.dispose()
        service.close()


def open_one(settings: Settings, key_id: int, blob: bytes) -> object:
    service = build_crypto_service(settings)
    engine = db.make_engine(settings.database_url)
    try:
        with db.transaction(db.make_session_factory(engine)) as session:
            return service.open(session, key_id, REF, blob)
    finally:
        engine.dispose()
        service.close()


def test_keys_lifecycle(cli_env: Settings) -> None:
    result = runner.invoke(keys_app, ["init"])
    assert result.exit_code == 0, result.output
    assert "key-encryption key v1 (file)" in result.output and "server certificate" in result.output
    assert "all keys already present" in runner.invoke(keys_app, ["init"]).output
    key_id, blob = seal_one(cli_env, "eori:GB123456789000")
    status = runner.invoke(keys_app, ["status"])
    assert status.exit_code == 0 and "v1 (current)" in status.output
    rotated = runner.invoke(keys_app, ["rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert "rotated to KEK v2: 1 data keys rewrapped" in rotated.output
    assert '"current_version": 2' in runner.invoke(keys_app, ["status", "--json"]).output
    assert open_one(cli_env, key_id, blob) == "Jane Doe"
    assert runner.invoke(keys_app, ["shred", "--party", "eori:GB123456789000"], input="n\n").exit_code == 1
    shred = runner.invoke(keys_app, ["shred", "--party", "eori:GB123456789000", "--yes"])
    assert shred.exit_code == 0 and "now read as erased" in shred.output
    assert open_one(cli_env, key_id, blob) is ERASED


def test_backup_commands_and_shred(cli_env: Settings, tmp_path: Path) -> None:
    assert runner.invoke(keys_app, ["init"]).exit_code == 0
    key_id, blob = seal_one(cli_env, "eori:GB123456789000")
    made = runner.invoke(backup_app, ["create", str(tmp_path / "b.cgb")])
    assert made.exit_code == 0, made.output
    assert "verifies" in runner.invoke(backup_app, ["verify", str(tmp_path / "b.cgb")]).output
    assert runner.invoke(keys_app, ["shred", "--party", "eori:GB123456789000", "--yes"]).exit_code == 0
    restored = runner.invoke(backup_app, ["restore", str(tmp_path / "b.cgb"), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert "1 data keys shredded since the backup stay erased" in restored.output
    assert open_one(cli_env, key_id, blob) is ERASED
    (tmp_path / "junk").write_bytes(b"not a backup at all" * 10)
    bad = runner.invoke(backup_app, ["restore", str(tmp_path / "junk"), "--yes"])
    assert bad.exit_code == 2 and "not a ClearGuard backup" in bad.output


def test_unsafe_key_file_gives_one_line_and_exit_2(cli_env: Settings) -> None:
    assert runner.invoke(keys_app, ["init"]).exit_code == 0
    os.chmod(cli_env.keys_dir / "kek-v0001.key", 0o644)
    result = runner.invoke(keys_app, ["status"])
    assert result.exit_code == 2
    assert "kek-v0001.key is accessible by group or others" in result.output
    assert "Traceback" not in result.output
