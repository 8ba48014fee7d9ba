"""The CLI commands and HTTP routes end to end on an embedded (SQLite) instance."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from clearguard import db
from clearguard.api.install import install_api
from clearguard.audit.commands import audit_app
from clearguard.audit.service import AuditService, NewAuditEvent
from clearguard.config import Settings
from clearguard.crypto import init_keys
from clearguard.identity.service import IdentityService
from clearguard.ledger.commands import ledger_app
from clearguard.ledger.routes import router
from clearguard.ledger.service import LedgerService
from clearguard.ledger.tiles_dir import verify_tiles_dir
from clearguard.tables import metadata
from tests.helpers import secret_box

runner = CliRunner()


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    url = f"sqlite:///{tmp_path / 'cg.db'}"
    monkeypatch.setenv("CLEARGUARD_DATABASE_URL", url)
    monkeypatch.setenv("CLEARGUARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CLEARGUARD_LEDGER_ORIGIN", "customs.test/ledger")
    monkeypatch.chdir(tmp_path)
    engine = db.make_engine(url)
    metadata.create_all(engine)
    settings = Settings()
    init_keys(settings)  # as `clearguard init` does: the commands are wired with every capability
    yield settings, db.make_session_factory(engine)
    engine.dispose()


def _populate(settings: Settings, factory: sessionmaker[Session], n: int = 40) -> LedgerService:
    ledger = LedgerService.from_settings(settings)
    audit = AuditService(ledger)
    with factory() as session, session.begin():
        for i in range(n):
            audit.record(
                session,
                NewAuditEvent(
                    actor=f"officer{i % 3}",
                    role="officer",
                    action="declaration.read",
                    record_type="declaration",
                    record_id=f"26GB{i:014d}",
                    party=f"p{i % 5}",
                    source="127.0.0.1",
                ),
            )
    return ledger


def test_key_file_created_private_and_stable(instance: tuple[Settings, sessionmaker[Session]]) -> None:
    settings, _ = instance
    first = runner.invoke(ledger_app, ["key"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("customs.test/ledger+")
    path = settings.keys_dir / "ledger-log.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert runner.invoke(ledger_app, ["key"]).output == first.output
    os.chmod(path, 0o644)
    refused = runner.invoke(ledger_app, ["key"])
    assert refused.exit_code == 2 and "chmod 600" in refused.output


def test_publish_verify_receipt_cycle(instance: tuple[Settings, sessionmaker[Session]], tmp_path: Path) -> None:
    settings, factory = instance
    _populate(settings, factory)
    vkey = runner.invoke(ledger_app, ["key"]).output.strip()
    result = runner.invoke(ledger_app, ["publish", str(tmp_path / "pub")])
    assert result.exit_code == 0, result.output
    assert verify_tiles_dir(tmp_path / "pub", vkey).size == 40
    result = runner.invoke(ledger_app, ["verify", "--tiles", str(tmp_path / "pub"), "--key", vkey])
    assert result.exit_code == 0, result.output
    result = runner.invoke(ledger_app, ["verify"])
    assert result.exit_code == 0 and "ok: 40 entries" in result.output, result.output

    receipt = runner.invoke(ledger_app, ["receipt", "17"])
    assert receipt.exit_code == 0, receipt.output
    (tmp_path / "r.json").write_text(receipt.output)
    ok = runner.invoke(ledger_app, ["verify-receipt", str(tmp_path / "r.json")])
    assert ok.exit_code == 0, ok.output
    forged = json.loads(receipt.output)
    forged["index"] = 18
    (tmp_path / "f.json").write_text(json.dumps(forged))
    bad = runner.invoke(ledger_app, ["verify-receipt", str(tmp_path / "f.json"), "--key", vkey])
    assert bad.exit_code == 1

    with factory() as session, session.begin():
        session.execute(text("UPDATE audit_events SET actor = 'nobody' WHERE ledger_index = 9"))
    failed = runner.invoke(ledger_app, ["verify"])
    assert failed.exit_code == 1
    assert "first divergent entry: 9" in failed.output


def test_verify_tiles_requires_key(instance: tuple[Settings, sessionmaker[Session]], tmp_path: Path) -> None:
    result = runner.invoke(ledger_app, ["verify", "--tiles", str(tmp_path)])
    assert result.exit_code == 2


def test_audit_report_formats(instance: tuple[Settings, sessionmaker[Session]], tmp_path: Path) -> None:
    settings, factory = instance
    _populate(settings, factory, 6)
    out = runner.invoke(audit_app, ["report", "--since", "2000-01-01", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["count"] == 6
    csv_out = runner.invoke(audit_app, ["report", "--since", "2000-01-01", "--format", "csv", "--actor", "officer1"])
    assert len(csv_out.output.strip().splitlines()) == 1 + 2
    html_out = runner.invoke(
        audit_app, ["report", "--since", "2000-01-01", "--format", "html", "-o", str(tmp_path / "r.html")]
    )
    assert html_out.exit_code == 0 and (tmp_path / "r.html").read_text().startswith("<!doctype html>")
    assert runner.invoke(audit_app, ["report", "--since", "2999-01-01"]).output.count('"event_id"') == 0
    assert runner.invoke(audit_app, ["report", "--since", "yesterday"]).exit_code == 2
    assert runner.invoke(audit_app, ["report", "--since", "2000-01-01", "--format", "xml"]).exit_code == 2


def test_routes(instance: tuple[Settings, sessionmaker[Session]]) -> None:
    settings, factory = instance
    ledger = _populate(settings, factory, 300)
    app = FastAPI()
    app.state.ledger = ledger
    app.state.session_factory = factory
    install_api(app, settings=settings, identity=IdentityService(factory, settings, secret_box=secret_box()))
    app.include_router(router)
    client = TestClient(app)
    assert client.get("/ledger/checkpoint").status_code == 404  # nothing integrated yet
    ledger.integrate_all(factory)
    checkpoint = client.get("/ledger/checkpoint")
    assert checkpoint.status_code == 200 and checkpoint.text.startswith("customs.test/ledger\n300\n")
    assert client.get("/ledger/key").text.strip() == ledger.vkey()
    full = client.get("/ledger/tile/0/000")
    assert full.status_code == 200 and len(full.content) == 8192 and "immutable" in full.headers["cache-control"]
    assert len(client.get("/ledger/tile/0/001.p/44").content) == 44 * 32
    assert len(client.get("/ledger/tile/0/001.p/10").content) == 10 * 32
    assert client.get("/ledger/tile/0/001.p/45").status_code == 404
    assert client.get("/ledger/tile/0/1").status_code == 404
    assert client.get("/ledger/tile/entries/000").status_code == 200
    assert client.post("/ledger/tile/0/000").status_code == 405
    with factory() as session:
        receipt = ledger.receipt(session, 123).to_json()
    assert client.post("/ledger/receipts/verify", json=receipt).json()["valid"] is True
    receipt["index"] = 124
    bad = client.post("/ledger/receipts/verify", json=receipt)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    # Receipts by index name a permission (ledger:read): no token, no receipt.
    refused = client.get("/ledger/receipts/7")
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    with factory() as session:
        assert ledger.receipt(session, 7).to_json()["index"] == 7
    permissions = {
        getattr(route, "path", ""): (getattr(route, "openapi_extra", None) or {}).get("x-permission")
        for route in router.routes  # app.routes holds included routers lazily on recent FastAPI
    }
    assert len(permissions) == 6
    assert all(permissions.values())
    assert permissions["/ledger/receipts/{index}"] == "ledger:read"
    assert permissions["/ledger/witness/add-checkpoint"] == "public"


def test_witness_commands(instance: tuple[Settings, sessionmaker[Session]]) -> None:
    del instance  # sets up the environment only
    log_vkey = runner.invoke(ledger_app, ["key"]).output.strip()
    wkey = runner.invoke(ledger_app, ["witness", "key"])
    assert wkey.exit_code == 0 and wkey.output.startswith("clearguard.local/witness+")
    added = runner.invoke(ledger_app, ["witness", "add-log", "customs.test/ledger", log_vkey, "http://x/ledger"])
    assert added.exit_code == 0, added.output
    mismatch = runner.invoke(ledger_app, ["witness", "add-log", "other.test/log", log_vkey, "http://x"])
    assert mismatch.exit_code != 0
    bad_key = runner.invoke(ledger_app, ["witness", "add-log", "customs.test/ledger", "nonsense", "http://x"])
    assert bad_key.exit_code != 0
    peer = runner.invoke(ledger_app, ["witness", "add-peer", wkey.output.strip(), "http://127.0.0.1:9/ledger/witness"])
    assert peer.exit_code == 0, peer.output
