"""Traveller records (the biometric category) are disposed of 30 days after they were recorded, by the
same `retention run`: the record is gone, the traveller's key is shredded once no record of theirs is
left, and nothing of the document, nationality, template or goods remains in the database's bytes.
A traveller with a newer record keeps their key and that record."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.db import make_session_factory
from tests.helpers import give_training, operator_cli
from tests.integration.cli.test_shred_leaves_nothing import database_bytes, found_in
from tests.integration.travellers.conftest import OFFICE, needles, template

runner = CliRunner()
PASSWORD = "plum-orbit-velvet-cascade-41"


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, f"{args}: {result.output}"
    return result.stdout if code == 0 else result.output


@pytest.fixture
def cli_env(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = operator_cli(empty_database[0], tmp_path, monkeypatch, env="test", auth_argon2_time_cost="1")
    args = ["users", "create", "officer-a", "--role", "officer", "--office", OFFICE]
    made = runner.invoke(app, args, input=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    give_training(make_session_factory(empty_database[1]), "officer-a", today=datetime.now(UTC).date())
    return folder


def record(folder: Path, document: str, seed: int) -> str:
    (folder / f"template-{seed}.json").write_text(json.dumps(template(seed)))
    out = invoke(
        "travellers", "record", "--document", document, "--nationality", "FR",
        "--template", str(folder / f"template-{seed}.json"), "--via", "red_channel", "--office", OFFICE,
        "--officer", "officer-a", "--goods", f"Marmalade-77{seed}1 jars", "--json",
    )  # fmt: skip
    return str(json.loads(out)["record_id"])


def test_traveller_records_go_after_thirty_days(cli_env: Path, empty_database: tuple[str, Engine]) -> None:
    url, engine = empty_database
    gone = record(cli_env, "X9Q4ZK27T", 1)
    kept = record(cli_env, "K7W2MM41P", 2)
    # The second traveller's record is made "later": its time moved 20 days on, by hand.
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE traveller_records SET created_at = :at WHERE record_id = :r"),
            {"at": datetime.now(UTC) + timedelta(days=20), "r": kept},
        )
    day = (datetime.now(UTC) + timedelta(days=31)).date().isoformat()
    before = (datetime.now(UTC) + timedelta(days=29)).date().isoformat()
    early = json.loads(invoke("retention", "run", "--dry-run", "--json", "--as-of", before))
    assert early["disposed"]["traveller_records"] == 0
    report = json.loads(invoke("retention", "run", "--yes", "--json", "--as-of", day))
    assert report["disposed"]["traveller_records"] == 1 and report["disposed"]["travellers_shredded"] == 1
    reader = ("--officer", "officer-a", "--justification", "desk check")
    invoke("travellers", "show", gone, *reader, code=1)
    assert json.loads(invoke("travellers", "show", kept, *reader, "--json"))["document_number"] == "K7W2MM41P"
    raw = database_bytes(url, engine)
    data = {"document_number": "X9Q4ZK27T", "nationality": "FR", "template": template(1)}
    data["goods"] = ["Marmalade-7711 jars"]
    text_needles = {n for n in needles(data) if n.isascii() and len(n) >= 6}
    assert not found_in(text_needles, raw)
    invoke("ledger", "integrate")
    assert invoke("ledger", "verify").startswith("ok:")
