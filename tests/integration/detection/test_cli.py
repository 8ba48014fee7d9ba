"""`clearguard detection alerts | triage | activity` as an operator runs them, on both databases: the
account changes an administrator makes on the command line are activity (and a role change is a
notice for review); triage records the verdict; bad input is exit 2, one line naming the field, and
changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.db import make_session_factory
from tests.helpers import give_training, operator_cli

runner = CliRunner()
PASSWORD = "plum-orbit-velvet-cascade-41"


@pytest.fixture
def cli_env(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    operator_cli(empty_database[0], tmp_path, monkeypatch, auth_argon2_time_cost="1", auth_argon2_memory_kib="8192")
    return empty_database[1]


def _json(args: list[str], stdin: str | None = None, env: dict[str, str] | None = None) -> Any:
    result = runner.invoke(app, [*args, "--json"], input=stdin, env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _ok(args: list[str], stdin: str | None = None) -> None:
    result = runner.invoke(app, args, input=stdin)
    assert result.exit_code == 0, result.output


def _rows(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_alerts_triage_and_activity(cli_env: Engine) -> None:
    _ok(["users", "create", "sam", "--role", "security"], PASSWORD + "\n")
    _ok(["users", "create", "olga", "--role", "officer", "--office", "GB000060"], PASSWORD + "\n")
    _ok(["users", "set-role", "olga", "--role", "risk_analyst"])
    activity = _json(["detection", "activity", "--actor", "cli:" + __import__("getpass").getuser()])["activity"]
    assert [a["action"] for a in activity][:1] == ["account.role_change"]
    assert all(a["record"] is None or "olga" not in a["record"] for a in activity)  # a keyed reference
    assert _json(["detection", "alerts"])["alerts"] == []  # a role change alone is no alert...
    notices = _json(["detection", "alerts", "--notices"])["alerts"]
    assert "role_change" in {n["kind"] for n in notices}  # ...but a notice for review
    notice = next(n for n in notices if n["kind"] == "role_change")
    triage = ["detection", "triage", str(notice["id"]), "--verdict", "acknowledge", "--note", "ticket 811"]
    # The operator who changed the role does not clear the notice about it: another member of staff does.
    refused = runner.invoke(app, triage)
    assert refused.exit_code == 1 and "another member of staff" in refused.output
    give_training(make_session_factory(cli_env), "sam", today=datetime.now(UTC).date())  # the gate on staff
    done = _json(triage, env={"CLEARGUARD_OPERATOR": "sam"})
    assert done["status"] == "acknowledged" and done["notes"][-1]["note"] == "ticket 811"
    assert _json(["detection", "alerts", "--notices", "--status", "acknowledged"])["alerts"][0]["id"] == notice["id"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["detection", "triage", "1", "--verdict", "maybe", "--note", "x"], "verdict"),
        (["detection", "triage", "1", "--verdict", "confirm", "--note", "  "], "note"),
        (["detection", "triage", "999", "--verdict", "confirm", "--note", "x"], "id"),
        (["detection", "alerts", "--status", "closed"], "status"),
        (["detection", "activity", "--limit", "0"], "limit"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(cli_env: Engine, args: list[str], field: str) -> None:
    before = (_rows(cli_env, "detection_alerts"), _rows(cli_env, "audit_events"))
    result = runner.invoke(app, args)
    assert result.exit_code in (1, 2), result.output
    assert result.exit_code == (1 if field == "id" else 2)  # an unknown alert is not found, not bad input
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}: "), result.output
    assert (_rows(cli_env, "detection_alerts"), _rows(cli_env, "audit_events")) == before
