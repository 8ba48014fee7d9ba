"""`clearguard travellers ...` as an operator runs it: record, show, list; bad input exits 2 with one
line naming the field and writes nothing; the stored bytes hold nothing of the traveller."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.db import make_engine, make_session_factory
from clearguard.travellers.tables import TravellerRecordRow
from tests.helpers import give_training, operator_cli
from tests.integration.cli.test_shred_leaves_nothing import database_bytes, found_in
from tests.integration.travellers.conftest import OFFICE, OTHER_OFFICE, needles, record_data, template

runner = CliRunner()
PASSWORD = "plum-orbit-velvet-cascade-41"


@pytest.fixture
def cli_env(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = operator_cli(empty_database[0], tmp_path, monkeypatch, auth_argon2_time_cost="1")
    for name, office in (("officer-a", OFFICE), ("officer-b", OTHER_OFFICE)):
        args = ["users", "create", name, "--role", "officer", "--office", office]
        made = runner.invoke(app, args, input=PASSWORD + "\n")
        assert made.exit_code == 0, made.output
    # Their data-protection training: the gate refuses an untrained officer's --officer commands.
    give_training(make_session_factory(empty_database[1]), "officer-a", "officer-b", today=datetime.now(UTC).date())
    (folder / "template.json").write_text(json.dumps(template(1)))
    return folder


def record_args(folder: Path, **changes: str) -> list[str]:
    options = {
        "--document": "X9Q4ZK27T", "--nationality": "FR", "--template": str(folder / "template.json"),
        "--via": "red_channel", "--office": OFFICE, "--officer": "officer-a",
    } | changes  # fmt: skip
    args = ["travellers", "record"]
    for key, value in options.items():
        args += [key, value]
    return [*args, "--goods", "Marmalade-7731 jars", "--goods", "3 bottles of Quetsche-4410"]


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    return result


def count(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(TravellerRecordRow)).scalar_one())
    finally:
        engine.dispose()


def test_record_show_list(cli_env: Path, empty_database: tuple[str, Engine]) -> None:
    url, engine = empty_database
    made = invoke(*record_args(cli_env), "--json")
    assert made.exit_code == 0, made.output
    record_id = json.loads(made.stdout)["record_id"]
    shown = invoke("travellers", "show", record_id, "--officer", "officer-a", "--justification", "desk check", "--json")
    assert shown.exit_code == 0, shown.output
    body = json.loads(shown.stdout)
    assert body["document_number"] == "X9Q4ZK27T" and body["nationality"] == "FR"
    assert body["template"]["length"] == 128 and len(body["template"]["sha256"]) == 16
    reader = ("--officer", "officer-a", "--justification", "desk")
    full = invoke("travellers", "show", record_id, *reader, "--json", "--with-template")
    assert json.loads(full.stdout)["template"] == template(1)
    text = invoke("travellers", "show", record_id, "--officer", "officer-a", "--justification", "desk")
    assert text.exit_code == 0 and "128 values" in text.stdout and "0." not in text.stdout.split("sha256")[0]
    listed = invoke("travellers", "list", "--office", OFFICE, "--json")
    assert [i["record_id"] for i in json.loads(listed.stdout)["items"]] == [record_id]
    assert "X9Q4ZK27T" not in listed.stdout
    other = invoke("travellers", "show", record_id, "--officer", "officer-b", "--justification", "curious")
    assert other.exit_code == 1 and "office" in other.output
    raw = database_bytes(url, engine)
    assert found_in(needles(record_data()), raw) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"--document": "AB-12"}, "document_number"),
        ({"--nationality": "QQ"}, "nationality"),
        ({"--via": "green"}, "declared_via"),
        ({"--office": "GB00"}, "office"),
    ],
)
def test_bad_options_exit_2_naming_the_field(
    cli_env: Path, empty_database: tuple[str, Engine], changes: dict[str, str], field: str
) -> None:
    result = invoke(*record_args(cli_env, **changes))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and field in lines[0], result.output
    assert count(empty_database[0]) == 0


@pytest.mark.parametrize(
    "content",
    ["[NaN" + ", 0.5" * 100 + "]", json.dumps([0.5] * 10), json.dumps([True] * 64), "not json", json.dumps({"t": 1})],
)
def test_bad_template_files_exit_2(cli_env: Path, empty_database: tuple[str, Engine], content: str) -> None:
    (cli_env / "bad.json").write_text(content)
    result = invoke(*record_args(cli_env, **{"--template": str(cli_env / "bad.json")}))
    assert result.exit_code == 2, result.output
    assert "template" in result.output and len(result.output.strip().splitlines()) == 1
    assert count(empty_database[0]) == 0


def test_a_template_that_is_not_a_regular_file_is_refused(cli_env: Path, empty_database: tuple[str, Engine]) -> None:
    result = invoke(*record_args(cli_env, **{"--template": str(cli_env)}))
    assert result.exit_code == 2 and "regular file" in result.output
    result = invoke(*record_args(cli_env, **{"--officer": "nobody-here"}))
    assert result.exit_code == 1 and "nobody-here" in result.output
    result = invoke(*record_args(cli_env, **{"--office": OTHER_OFFICE}))
    assert result.exit_code == 1 and "office" in result.output
    assert count(empty_database[0]) == 0
