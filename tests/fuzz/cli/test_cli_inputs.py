"""The commands that read files an operator names, given odd files: never an internal error,
unreadable input is exit 2 with one line, and a refused command writes nothing (every table's row
count as before). Lodging, validation and bulk import of declarations, receipts, backups, partner
identity documents and the retention policy file named in the settings."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.declarations.parse import parse_json
from clearguard.errors import InputError
from clearguard.tables import metadata
from tests.fuzz.odd import EXAMPLES, FUZZ, odd_bytes, restructured
from tests.fuzz.parsers.test_policy_files import RETENTION
from tests.helpers import example, import_summary

runner = CliRunner()
# Each invocation builds the services: an eighth of the parsers' count.
CLI = settings(FUZZ, max_examples=max(5, EXAMPLES // 8))
SAMPLES = [example("h1-import.json"), example("h7-low-value.json")]
RAW = [json.dumps(s).encode() for s in SAMPLES]
documents = st.one_of(odd_bytes(RAW), restructured(SAMPLES).map(lambda d: json.dumps(d).encode()))


@pytest.fixture
def cli(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Engine]:
    monkeypatch.setenv("CLEARGUARD_DATABASE_URL", empty_database[0])
    monkeypatch.setenv("CLEARGUARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", "--no-demo"])
    assert result.exit_code == 0, result.output
    return tmp_path, empty_database[1]


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in metadata.sorted_tables}


def _run(folder: Path, args: list[str], raw: bytes, name: str = "input.json") -> Any:
    path = folder / name
    path.write_bytes(raw)
    result = runner.invoke(app, [a.replace("{file}", str(path)) for a in args])
    output = result.output
    assert "internal error" not in output and "Traceback" not in output, (args, raw[:200], output)
    assert result.exit_code in (0, 1, 2), (result.exit_code, output)
    return result


def _unreadable(raw: bytes) -> bool:
    try:
        parse_json(raw, max_bytes=1 << 20)
    except InputError:
        return True
    return False


@CLI
@given(raw=documents)
def test_declarations_validate_and_lodge(cli: tuple[Path, Engine], raw: bytes) -> None:
    folder, engine = cli
    fresh = b'"lrn": "C%06d"' % (abs(hash(raw)) % 10**6)  # a new LRN, so a valid lodging is not a replay
    raw = re.sub(rb'"lrn": "[^"]{0,22}"', lambda _: fresh, raw, count=1)
    result = _run(folder, ["declarations", "validate", "{file}"], raw)
    if _unreadable(raw):
        assert result.exit_code == 2 and result.output.startswith("error:"), result.output
    before = _counts(engine)
    result = _run(folder, ["declarations", "lodge", "{file}"], raw)
    if _unreadable(raw):
        assert result.exit_code == 2, result.output
    if result.exit_code != 0:
        assert _counts(engine) == before, result.output


@CLI
@given(lines=st.lists(documents.map(lambda b: b.replace(b"\n", b" ")), min_size=1, max_size=4))
def test_declarations_import(cli: tuple[Path, Engine], lines: list[bytes]) -> None:
    folder, engine = cli
    before = _counts(engine)["declarations"]
    result = _run(folder, ["declarations", "import", "--json", "{file}"], b"\n".join(lines), "batch.jsonl")
    summary = import_summary(result.stdout)  # JSON Lines: one per committed batch, the summary last
    assert _counts(engine)["declarations"] == before + summary["created"]  # exactly what it reported
    assert summary["created"] + summary["already_lodged"] + summary["rejected"] == sum(1 for x in lines if x.strip())


RECEIPT = b'{"format": "clearguard/receipt/v1", "index": 0, "entry": "AA==", "checkpoint": "x", "inclusion_proof": []}'


@CLI
@given(raw=odd_bytes([RECEIPT]))
def test_ledger_verify_receipt(cli: tuple[Path, Engine], raw: bytes) -> None:
    from clearguard.ledger.errors import MalformedReceipt
    from clearguard.ledger.receipt import loads_receipt

    result = _run(cli[0], ["ledger", "verify-receipt", "{file}"], raw)
    try:
        loads_receipt(raw)
    except MalformedReceipt:
        assert result.exit_code == 2, result.output  # not a receipt: bad input
        return
    assert result.exit_code == 1, result.output  # a receipt, but nothing of ours signed it


@CLI
@given(raw=odd_bytes([b"CGBACKUP" + bytes(100)]))
def test_backup_verify(cli: tuple[Path, Engine], raw: bytes) -> None:
    result = _run(cli[0], ["backup", "verify", "{file}"], raw, "backup.cgb")
    assert result.exit_code == 2, result.output


@CLI
@given(raw=odd_bytes([b"eyJhbGciOiJFZERTQSJ9.eyJuYW1lIjoibmwifQ.c2ln"]))
def test_sharing_partner_add(cli: tuple[Path, Engine], raw: bytes) -> None:
    folder, engine = cli
    before = _counts(engine)
    result = _run(folder, ["sharing", "partner", "add", "nl", "--identity", "{file}"], raw, "identity.jws")
    assert result.exit_code == 2, result.output
    assert _counts(engine) == before


@CLI
@given(raw=odd_bytes([RETENTION]))
def test_retention_policy_file(cli: tuple[Path, Engine], raw: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = cli[0]
    monkeypatch.setenv("CLEARGUARD_RETENTION_POLICY_FILE", str(folder / "policy.yaml"))
    result = _run(folder, ["retention", "policies"], raw, "policy.yaml")
    assert result.exit_code in (0, 2), result.output


def test_a_receipt_file_that_is_not_a_receipt_is_exit_2(cli: tuple[Path, Engine]) -> None:
    """Defect found: `ledger verify-receipt` of a file that is not JSON, or lacks a field, exited 1
    like a receipt that fails to verify; bad input is exit 2 (MalformedReceipt)."""
    for raw in (b"not json", b"{}", b"[1]", b'{"format": "clearguard/receipt/v1", "index": -1}', b"9" * 5000):
        assert _run(cli[0], ["ledger", "verify-receipt", "{file}"], raw).exit_code == 2, raw
