from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from clearguard.identity.commands import users_app
from clearguard.identity.demo import DEMO_ACCOUNTS, create_demo_accounts
from clearguard.identity.passwords import Argon2Params, PasswordService
from clearguard.identity.totp_secrets import TotpSecrets
from tests.helpers import secret_box
from tests.integration.identity.identity_env import PASSWORD

runner = CliRunner()


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings for the command's own process: the test database, keys as `clearguard init` makes."""
    from clearguard.config import Settings
    from clearguard.crypto.setup import init_keys

    monkeypatch.setenv("CLEARGUARD_DATABASE_URL", database_url)
    monkeypatch.setenv("CLEARGUARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CLEARGUARD_AUTH_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("CLEARGUARD_AUTH_ARGON2_MEMORY_KIB", "8192")
    init_keys(Settings())


def users(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(users_app, list(args), input=stdin)
    return result.exit_code, result.output


def test_create_list_disable_reset(cli_env: None) -> None:
    code, out = users("create", "Alice", "--role", "trader", "--party", "GB123456789000", stdin=PASSWORD + "\n")
    assert code == 0, out
    code, out = users("create", "bob", "--role", "broker", "--party", "GB987654321000", stdin=PASSWORD + "\n")
    assert code == 0, out
    code, out = users("grant-mandate", "bob", "--for", "GB123456789000", "--until", "2099-12-31")
    assert code == 0, out
    code, out = users("list", "--json")
    rows = {r["username"]: r for r in json.loads(out)}
    assert rows["alice"]["role"] == "trader" and rows["alice"]["party"] == "GB123456789000"
    assert rows["bob"]["mandates"] == ["GB123456789000"]
    assert PASSWORD not in out and "hash" not in out
    assert users("disable", "alice")[0] == 0
    assert users("reset-mfa", "alice")[0] == 0
    code, out = users("list", "--json")
    assert {r["username"]: r for r in json.loads(out)}["alice"]["disabled"] is True


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (("create", "carol", "--role", "trader", "--party", "GB1"), "password1234\n"),  # guessable
        (("create", "carol", "--role", "wizard"), PASSWORD + "\n"),  # unknown role
        (("create", "carol", "--role", "trader"), PASSWORD + "\n"),  # trader without party
        (("create", "carol", "--role", "officer"), PASSWORD + "\n"),  # officer without office
        (("grant-mandate", "nobody", "--for", "GB1", "--until", "2099-01-01"), None),
        (("grant-mandate", "nobody", "--for", "GB1", "--until", "tomorrow"), None),
        (("disable", "nobody"), None),
    ],
)
def test_bad_input_exits_nonzero_with_one_line(cli_env: None, args: tuple[str, ...], stdin: str | None) -> None:
    code, out = users(*args, stdin=stdin)
    assert code in (1, 2) and "error:" in out and "Traceback" not in out


def test_password_is_not_an_argument(cli_env: None) -> None:
    code, _ = users("create", "carol", "--role", "admin", "--password", PASSWORD)
    assert code == 2


def test_duplicate_username_refused(cli_env: None) -> None:
    assert users("create", "dave", "--role", "admin", stdin=PASSWORD + "\n")[0] == 0
    code, out = users("create", "DAVE", "--role", "admin", stdin=PASSWORD + "\n")
    assert code == 1 and "already exists" in out


def test_demo_accounts_every_role_and_idempotent(session_factory: sessionmaker[Session]) -> None:
    fast = PasswordService(Argon2Params(time_cost=1, memory_cost_kib=8192))
    seeds = TotpSecrets(secret_box())
    with session_factory() as session, session.begin():
        created = create_demo_accounts(session, passwords=fast, totp_secrets=seeds)
    assert {role for _, role, _, _ in created} == {r.value for _, r, _, _ in DEMO_ACCOUNTS}
    assert len({pw for _, _, pw, _ in created}) == len(created)
    with session_factory() as session, session.begin():
        assert create_demo_accounts(session, passwords=fast, totp_secrets=seeds) == []


@pytest.mark.asvs("V16.3.3")
def test_account_changes_are_audited(cli_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from collections.abc import Iterator
    from contextlib import contextmanager

    from clearguard import cli_support
    from clearguard.audit.service import AuditQuery, AuditService
    from clearguard.identity import commands

    audit = AuditService()
    seen: list[object] = []

    @contextmanager
    def with_audit() -> Iterator[object]:
        with cli_support.open_services() as services:
            services.audit = audit
            seen.append(services)
            yield services

    monkeypatch.setattr(commands, "open_services", with_audit)
    assert users("create", "erin", "--role", "admin", stdin=PASSWORD + "\n")[0] == 0
    assert users("disable", "erin")[0] == 0
    with cli_support.open_services() as services, services.session_factory() as session:
        events = audit.query(session, AuditQuery())
    assert [(e.action, e.record_id, e.source) for e in events] == [
        ("account.create", "erin", "cli"),
        ("account.disable", "erin", "cli"),
    ]
    assert seen
