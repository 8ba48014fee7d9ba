"""`clearguard init` gives the privileged demo accounts their data-protection training, so demo
logins can act; running it again records nothing twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.identity.demo import DEMO_ACCOUNTS
from clearguard.training import PRIVILEGED_ROLES
from tests.helpers import operator_cli

runner = CliRunner()


def test_init_trains_the_demo_staff(
    empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    operator_cli(empty_database[0], tmp_path, monkeypatch, auth_argon2_time_cost="1")
    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0, first.output
    staff = sorted(name for name, role, _p, _o in DEMO_ACCOUNTS if role in PRIVILEGED_ROLES)
    assert len(staff) >= 6
    for name in staff:
        assert f"demo training: {name} data-protection recorded" in first.output
    listed = json.loads(runner.invoke(app, ["training", "list", "--json"]).stdout)["items"]
    assert sorted(c["username"] for c in listed) == staff
    assert all(c["recorded_by"] == "system:init" and c["course"] == "data-protection" for c in listed)
    due = json.loads(runner.invoke(app, ["training", "due", "--json"]).stdout)["items"]
    assert [g for g in due if g["username"] in staff] == []

    again = runner.invoke(app, ["init"])
    assert again.exit_code == 0, again.output
    assert "demo training:" not in again.output
    assert len(json.loads(runner.invoke(app, ["training", "list", "--json"]).stdout)["items"]) == len(staff)
