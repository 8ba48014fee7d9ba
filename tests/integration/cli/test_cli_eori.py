"""Issue 13, item 14 on the command line: every EORI the CLI takes is checked by the rule pack's
table (GB12 passed as an EORI): `declarations list --party`, `users create --party`,
`users grant-mandate --for`. Exit 2, one line naming the option and the rule; nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from clearguard.cli import app
from tests.helpers import operator_cli

runner = CliRunner()
PASSWORD = "plum-orbit-velvet-cascade-41"
BAD = ("GB12", "GB1234567890123", "XI123", "NL12345678", "ZZ123456789")


@pytest.fixture
def cli_env(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    argon2 = {"auth_argon2_time_cost": "1", "auth_argon2_memory_kib": "8192"}
    operator_cli(empty_database[0], tmp_path, monkeypatch, **argon2)
    return empty_database[1]


def _one_line(args: list[str], option: str, stdin: str | None = None) -> None:
    result = runner.invoke(app, args, input=stdin)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {option}: not an EORI number: "), result.output
    assert lines[0].endswith("(rule CG-EORI-001)"), lines[0]


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.mark.parametrize("bad", BAD)
def test_every_eori_the_cli_takes_is_checked_by_the_pack(cli_env: Engine, bad: str) -> None:
    _one_line(["declarations", "list", "--party", bad], "party")
    _one_line(["users", "create", "carol", "--role", "trader", "--party", bad], "party", PASSWORD + "\n")
    assert _count(cli_env, "identity_accounts") == 0
    created = runner.invoke(
        app, ["users", "create", "bob", "--role", "broker", "--party", "GB987654321000"], input=PASSWORD + "\n"
    )
    assert created.exit_code == 0, created.output
    _one_line(["users", "grant-mandate", "bob", "--for", bad, "--until", "2099-12-31"], "for")
    assert _count(cli_env, "access_mandates") == 0


def test_well_formed_eoris_pass_and_are_normalised(cli_env: Engine) -> None:
    listed = runner.invoke(app, ["declarations", "list", "--json", "--party", " gb123456789000 "])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)["items"] == []
    for party in ("GB123456789000", "XI123456789000", "NL812345678", "DE1", "FR12"):
        name = "t-" + party.lower()
        done = runner.invoke(
            app, ["users", "create", name, "--role", "trader", "--party", party], input=PASSWORD + "\n"
        )
        assert done.exit_code == 0, done.output
