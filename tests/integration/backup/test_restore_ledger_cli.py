"""Restoring an older backup never forks the log (issue 13, item 20), through the CLI as an operator
runs it, on SQLite and PostgreSQL: init, lodge, backup, lodge more, shred, restore (refused), restore
--accept-loss, lodge again; `ledger verify` passes and names the lost entries; receipts from before
the restore that are still in the log verify; no tree size is ever signed with two roots; the party
shredded after the backup stays erased."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from tests.helpers import example, operator_cli
from typer.testing import CliRunner

from clearguard import db
from clearguard.cli import app
from clearguard.ledger.commitment import decode_entry
from clearguard.ledger.continuity import LOST_KIND
from clearguard.ledger.signed_state import FILE_NAME
from clearguard.ledger.tables import LedgerCheckpointRow, LedgerEntryRow

runner = CliRunner()


@pytest.fixture
def cli_env(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return operator_cli(empty_database[0], tmp_path, monkeypatch, quiet_risk=True)


def run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def lodge(env: Path, lrn: str) -> str:
    doc = example("h1-import.json")
    doc["lrn"] = lrn
    path = env / f"{lrn}.json"
    path.write_text(json.dumps(doc))
    result = run("declarations", "lodge", str(path), "--json")
    assert result.exit_code == 0, result.output
    return str(json.loads(result.stdout)["mrn"])


def integrate(url: str) -> int:
    """Integrates what is pending (lodging may have done it already); the latest signed size."""
    result = run("ledger", "integrate")
    assert result.exit_code == 0, result.output
    return max(signed_roots(url))


def signed_roots(url: str) -> dict[int, bytes]:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(LedgerCheckpointRow.size, LedgerCheckpointRow.root)).all()
        return {int(size): bytes(root) for size, root in rows}
    finally:
        engine.dispose()


def entries(url: str) -> list[bytes]:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            return [bytes(d) for d in conn.execute(select(LedgerEntryRow.data).order_by(LedgerEntryRow.idx)).scalars()]
    finally:
        engine.dispose()


def receipt(env: Path, index: int) -> Path:
    result = run("ledger", "receipt", str(index))
    assert result.exit_code == 0, result.output
    path = env / f"receipt-{index}-{len(list(env.glob('receipt-*')))}.json"
    path.write_text(result.stdout)
    return path


def merge_roots(seen: dict[int, bytes], more: dict[int, bytes]) -> None:
    for size, root in more.items():
        assert seen.setdefault(size, root) == root, f"size {size} signed with two roots"


def test_restore_older_backup_never_reuses_a_signed_size(cli_env: Path, empty_database: tuple[str, Engine]) -> None:
    url = empty_database[0]
    first = lodge(cli_env, "RESTORE-A")
    size1 = integrate(url)
    kept_receipts = [receipt(cli_env, i) for i in range(size1)]
    assert run("backup", "create", str(cli_env / "before.cgb")).exit_code == 0

    lodge(cli_env, "RESTORE-B")
    lodge(cli_env, "RESTORE-C")
    size2 = integrate(url)
    assert size2 > size1
    lost_receipt = receipt(cli_env, size2 - 1)
    roots = signed_roots(url)
    before_entries = entries(url)
    shred = run("keys", "shred", "--party", "GB123456789000", "--yes")
    assert shred.exit_code == 0, shred.output
    size3 = integrate(url)  # the shred's own audit entries
    merge_roots(roots, signed_roots(url))
    state = json.loads((cli_env / "var" / "keys" / FILE_NAME).read_text())
    assert state["size"] == max(size2, size3)
    last_signed = state["size"]

    # Without --accept-loss: refused, nothing restored.
    refused = run("backup", "restore", str(cli_env / "before.cgb"), "--yes")
    assert refused.exit_code == 2, refused.output
    assert "--accept-loss" in refused.output and f"signed {last_signed}" in refused.output
    assert entries(url)[: len(before_entries)] == before_entries
    assert run("ledger", "verify").exit_code == 0

    accepted = run("backup", "restore", str(cli_env / "before.cgb"), "--yes", "--accept-loss")
    assert accepted.exit_code == 0, accepted.output
    assert "recorded as lost by restore" in accepted.output

    lodge(cli_env, "RESTORE-D")
    integrate(url)
    merge_roots(roots, signed_roots(url))  # no size signed twice with two roots
    now = entries(url)
    # The lost indices hold markers, the new lodging comes after the last signed size.
    backup_size = next(i for i, e in enumerate(now) if decode_entry(e).kind == LOST_KIND)
    assert backup_size >= size1
    assert all(decode_entry(e).kind == LOST_KIND for e in now[backup_size:last_signed])
    assert len(now) > last_signed + 1
    assert now[:backup_size] == before_entries[:backup_size]

    verify = run("ledger", "verify")
    assert verify.exit_code == 0, verify.output
    audit = run("audit", "report", "--since", "2000-01-01", "--record", "restore-1")
    assert audit.exit_code == 0, audit.output
    assert "backup.restore.accept_loss" in audit.stdout and str(last_signed) in audit.stdout
    assert f"entries {backup_size}..{last_signed - 1} lost by restore 1" in verify.output

    for path in kept_receipts:  # receipts from before the backup: offline and against the log now
        assert run("ledger", "verify-receipt", str(path)).exit_code == 0
        index = json.loads(path.read_text())["index"]
        fresh = json.loads(receipt(cli_env, index).read_text())
        assert fresh["entry"] == json.loads(path.read_text())["entry"]
        assert (
            run(
                "ledger",
                "verify-receipt",
                str(cli_env / f"receipt-{index}-{len(list(cli_env.glob('receipt-*'))) - 1}.json"),
            ).exit_code
            == 0
        )
    # A receipt of a lost entry still verifies (it was signed), but the log now holds a marker there.
    lost_index = json.loads(lost_receipt.read_text())["index"]
    assert decode_entry(now[lost_index]).kind == LOST_KIND
    assert base64.b64decode(json.loads(lost_receipt.read_text())["entry"]) != now[lost_index]

    # The party shredded after the backup stays erased in the restored data.
    for mrn in (first,):  # RESTORE-D, lodged after the restore, has a fresh key: readable
        shown = run("declarations", "show", mrn, "--json")
        assert shown.exit_code == 0, shown.output
        assert "Acme Imports" not in shown.stdout and "Dock Road" not in shown.stdout
