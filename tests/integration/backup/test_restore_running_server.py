"""A server left running across a restore (issue 13, item 20): it drops the tiles it cached from the
tree before the restore, so every receipt it issues afterwards passes its own verification; and a
database rolled back behind ClearGuard's back (a restore without `clearguard backup restore`) gets
no lodging an index the log has signed, instead of a second receipt for it. Through the real app
(create_app over build_services) and the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.integration.api.app_env import RealApp, make_real_app
from typer.testing import CliRunner

from clearguard.backup import restore_backup
from clearguard.cli import app as cli
from clearguard.config import Settings
from clearguard.crypto.setup import load_backup_key

runner = CliRunner()


@pytest.fixture
def server(
    database_url_and_engine: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RealApp]:
    url, engine = database_url_and_engine
    monkeypatch.setenv("CLEARGUARD_DATABASE_URL", url)  # the CLI works on the server's database and keys
    monkeypatch.chdir(tmp_path)
    yield make_real_app(engine, url)


def run(*args: str) -> Any:
    result = runner.invoke(cli, list(args))
    return result


def lodge(server: RealApp) -> dict[str, Any]:
    r = server.client.post(
        "/api/v1/declarations", params={"receipt": "true"}, json=server.document("gb"), headers=server.auth("trader")
    )
    assert r.status_code == 201, r.text
    receipt: dict[str, Any] = r.json()["receipt"]
    return receipt


def verifies(server: RealApp, receipt: dict[str, Any]) -> bool:
    r = server.client.post("/ledger/receipts/verify", json=receipt)
    assert r.status_code in (200, 422), r.text
    return r.status_code == 200


def all_receipts(server: RealApp) -> list[dict[str, Any]]:
    """Every integrated entry's receipt as the server serves it (this also fills its tile cache)."""
    out = []
    index = 0
    while True:
        r = server.client.get(f"/ledger/receipts/{index}", headers=server.auth("auditor"))
        if r.status_code == 404:
            return out
        assert r.status_code == 200, r.text
        out.append(r.json())
        index += 1


def test_running_server_drops_its_tile_cache_after_restore(server: RealApp, tmp_path: Path) -> None:
    lodge(server)
    assert all(verifies(server, r) for r in all_receipts(server))
    assert run("backup", "create", str(tmp_path / "b.cgb")).exit_code == 0
    for _ in range(3):
        lodge(server)
    before = all_receipts(server)
    assert all(verifies(server, r) for r in before)

    restored = run("backup", "restore", str(tmp_path / "b.cgb"), "--yes", "--accept-loss")
    assert restored.exit_code == 0, restored.output

    fresh = lodge(server)
    assert fresh["index"] > before[-1]["index"]  # no index handed out twice
    assert verifies(server, fresh)
    after = all_receipts(server)
    assert len(after) > len(before)
    assert all(verifies(server, r) for r in after), [r["index"] for r in after if not verifies(server, r)]
    verify = run("ledger", "verify")
    assert verify.exit_code == 0 and "lost by restore" in verify.output, verify.output


def test_database_rolled_back_behind_our_back_hands_out_no_signed_index(server: RealApp, tmp_path: Path) -> None:
    lodge(server)
    assert run("backup", "create", str(tmp_path / "b.cgb")).exit_code == 0
    signed = [lodge(server) for _ in range(2)]
    settings = Settings()
    # An operator restores with the database's own tools, not with `clearguard backup restore`.
    restore_backup(settings.database_url, load_backup_key(settings), tmp_path / "b.cgb")
    server.client.app.state.services.engine.dispose()  # type: ignore[attr-defined]

    r = server.client.post(
        "/api/v1/declarations", params={"receipt": "true"}, json=server.document("gb"), headers=server.auth("trader")
    )
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "--accept-loss" in r.json()["detail"]
    verify = run("ledger", "verify")
    assert verify.exit_code == 1 and "rolled back" in verify.output, verify.output

    # The way out: the CLI restore, accepting the loss; lodging then resumes past the signed size.
    assert run("backup", "restore", str(tmp_path / "b.cgb"), "--yes", "--accept-loss").exit_code == 0
    fresh = lodge(server)
    assert fresh["index"] > max(r["index"] for r in signed)
    assert verifies(server, fresh) and all(verifies(server, r) for r in signed)
    assert run("ledger", "verify").exit_code == 0


def test_restoring_a_backup_that_holds_every_signed_entry_needs_no_flag(server: RealApp, tmp_path: Path) -> None:
    lodge(server)
    assert run("backup", "create", str(tmp_path / "b.cgb")).exit_code == 0
    result = run("backup", "restore", str(tmp_path / "b.cgb"), "--yes")
    assert result.exit_code == 0, result.output
    assert "lost" not in result.output
    assert verifies(server, lodge(server))
    verify = run("ledger", "verify")
    assert verify.exit_code == 0 and "lost by restore" not in verify.output, verify.output
