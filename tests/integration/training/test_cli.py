"""`clearguard training ...` as an operator runs it, on both databases: record (with its audit
event), list, due; bad dates exit 2 naming the field and store nothing; and the CLI paths that act
for a named staff account (CLEARGUARD_OPERATOR, --officer) are gated like the API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from clearguard.audit.tables import AuditEventRow
from clearguard.cli import app
from clearguard.db import make_session_factory
from clearguard.training.tables import CompletionRow
from tests.helpers import operator_cli
from tests.integration.travellers.conftest import OFFICE, template

runner = CliRunner()
PASSWORD = "plum-orbit-velvet-cascade-41"
TODAY = datetime.now(UTC).date()


def invoke(*args: str, code: int = 0, env: dict[str, str] | None = None) -> Any:
    stdin = PASSWORD + "\n" if args[:2] == ("users", "create") else None
    result = runner.invoke(app, list(args), env=env, input=stdin)
    assert result.exit_code == code, f"{args}: {result.output}"
    return result


def rows(engine: Engine, what: Any) -> int:
    with make_session_factory(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(what)) or 0)


@pytest.fixture
def cli_env(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    operator_cli(empty_database[0], tmp_path, monkeypatch, auth_argon2_time_cost="1")
    for name, role in (("olivia", "officer"), ("dora", "dpo"), ("adam", "admin"), ("tom", "trader")):
        extra = ["--office", OFFICE] if role == "officer" else ["--party", "GB123456789000"] if role == "trader" else []
        invoke("users", "create", name, "--role", role, *extra)
    return empty_database[1]


def record(*extra: str, user: str = "olivia", code: int = 0, env: dict[str, str] | None = None) -> Any:
    args = ["training", "record", user, "--course", "data-protection", "--completed", TODAY.isoformat()]
    if "--expires" not in extra:
        args += ["--expires", (TODAY + timedelta(days=365)).isoformat()]
    return invoke(*args, *extra, code=code, env=env)


def test_record_list_and_due(cli_env: Engine) -> None:
    due = json.loads(invoke("training", "due", "--json").stdout)
    assert due["within_days"] == 30
    assert [(g["username"], g["status"]) for g in due["items"]] == [
        ("adam", "missing"),
        ("dora", "missing"),
        ("olivia", "missing"),
    ]  # fmt: skip  (the trader is outside the duty)
    done = json.loads(record("--certificate", "DP-2026/0042", "--json").stdout)
    assert done["username"] == "olivia" and done["certificate"] == "DP-2026/0042"
    assert done["recorded_by"].startswith("cli:")
    record("--expires", (TODAY + timedelta(days=20)).isoformat(), user="dora")

    listed = json.loads(invoke("training", "list", "--json").stdout)["items"]
    assert [(c["username"], c["course"]) for c in listed] == [
        ("dora", "data-protection"), ("olivia", "data-protection"),
    ]  # fmt: skip
    assert [c["username"] for c in json.loads(invoke("training", "list", "olivia", "--json").stdout)["items"]] == [
        "olivia"
    ]
    assert "olivia" in invoke("training", "list").stdout
    due = json.loads(invoke("training", "due", "--json").stdout)["items"]
    assert [(g["username"], g["status"]) for g in due] == [("adam", "missing"), ("dora", "expiring")]
    later = json.loads(invoke("training", "due", "--json", "--within", "10").stdout)["items"]
    assert [(g["username"], g["status"]) for g in later] == [("adam", "missing")]
    assert "expiring" in invoke("training", "due").stdout

    with make_session_factory(cli_env)() as session:
        events = list(session.scalars(select(AuditEventRow).where(AuditEventRow.action == "training.record")))
    assert sorted(e.record_id for e in events) == ["dora", "olivia"]
    assert all(e.details and e.details["course"] == "data-protection" for e in events)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (("--completed", "2026-02-30"), "completed"),
        (("--completed", "yesterday"), "completed"),
        (("--expires", "31/12/2030"), "expires"),
        (("--expires", (TODAY - timedelta(days=1)).isoformat()), "expires"),  # before completed
        (("--expires", TODAY.isoformat()), "expires"),  # the same day
        (("--completed", (TODAY + timedelta(days=2)).isoformat()), "completed"),  # in the future
        (("--course", "first-aid"), "course"),
        (("--certificate", "<b>x</b>"), "certificate"),
    ],
)
def test_bad_input_exits_2_naming_the_field(cli_env: Engine, extra: tuple[str, str], field: str) -> None:
    args = ["training", "record", "olivia", "--course", "data-protection"]
    options = {"--completed": TODAY.isoformat(), "--expires": (TODAY + timedelta(days=365)).isoformat()}
    options |= dict([extra])
    for key, value in options.items():
        args += [key, value]
    result = invoke(*args, code=2)
    assert f"error: {field}:" in result.output, result.output
    assert "Traceback" not in result.output
    assert rows(cli_env, CompletionRow) == 0


def test_within_out_of_range_exits_2(cli_env: Engine) -> None:
    assert "within:" in invoke("training", "due", "--within", "-3", code=2).output


def test_named_staff_operators_are_gated(cli_env: Engine, tmp_path: Path) -> None:
    invoke("users", "create", "sec", "--role", "security")
    # An untrained administrator named as the operator cannot record training, not even another's.
    refused = record(code=1, env={"CLEARGUARD_OPERATOR": "adam"})
    assert "training required: course data-protection never recorded for adam" in refused.output
    assert rows(cli_env, CompletionRow) == 0
    record(user="adam")  # the server's operator (cli:<user>, no account) is not gated
    # Nobody records their own.
    assert "may not record its own training" in record(user="adam", code=1, env={"CLEARGUARD_OPERATOR": "adam"}).output
    record(user="dora", env={"CLEARGUARD_OPERATOR": "adam"})  # trained, adam may now

    # Privacy commands as a named account: the trained DPO passes, an untrained one is refused.
    privacy = ["privacy", "request", "list", "--json"]
    assert json.loads(invoke(*privacy, env={"CLEARGUARD_OPERATOR": "dora"}).stdout) == []
    assert "never recorded for sec" in invoke(*privacy, code=1, env={"CLEARGUARD_OPERATOR": "sec"}).output
    # Traveller commands act for an officer's account (--officer).
    (tmp_path / "t.json").write_text(json.dumps(template(1)))
    travel = [
        "travellers", "record", "--document", "X9Q4ZK27T", "--nationality", "FR",
        "--template", str(tmp_path / "t.json"), "--via", "red_channel", "--office", OFFICE, "--officer", "olivia",
        "--goods", "3 jars", "--json",
    ]  # fmt: skip
    assert "training required: course data-protection never recorded for olivia" in invoke(*travel, code=1).output
    listing = ["travellers", "list", "--office", OFFICE, "--officer", "olivia", "--json"]
    assert "never recorded for olivia" in invoke(*listing, code=1).output
    record(user="olivia")
    assert json.loads(invoke(*travel).stdout)["record_id"].startswith("TRV-")  # open at once
    assert len(json.loads(invoke(*listing).stdout)["items"]) == 1
    # Detection's triage and sharing's commands, named as an untrained security account.
    sec = {"CLEARGUARD_OPERATOR": "sec"}
    triage = ["detection", "triage", "1", "--verdict", "acknowledge", "--note", "n"]
    assert "never recorded for sec" in invoke(*triage, code=1, env=sec).output
    assert "never recorded for sec" in invoke("sharing", "dispose", "--json", code=1, env=sec).output
    # A name that is no account is the server's own operator at the console.
    assert "disposed" in invoke("sharing", "dispose", "--json", env={"CLEARGUARD_OPERATOR": "ops-desk"}).stdout
