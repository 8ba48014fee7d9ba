"""`clearguard users ...`: create, list, disable, enable, reset-mfa, set-role, grant-mandate.

Passwords come from standard input or a hidden prompt, never from an argument (arguments end up in
shell history and in the process list). Every change is an audit event committed with it.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from clearguard.access.mandates import current_mandates, grant_mandate
from clearguard.access.roles import Role
from clearguard.audit import NewAuditEvent
from clearguard.cli_support import console, guarded, open_services, print_json
from clearguard.db import transaction
from clearguard.errors import InputError
from clearguard.identity import accounts
from clearguard.identity.tables import Account
from clearguard.wiring import Services

users_app = typer.Typer(help="Manage accounts, their second factors and broker mandates.", no_args_is_help=True)


def _now() -> datetime:
    return datetime.now(UTC)


def _operator() -> str:
    return "cli:" + getpass.getuser()


@contextmanager
def _admin() -> Iterator[tuple[Services, Session]]:
    """(services, session) in one transaction: the change and its audit event commit together."""
    with open_services() as services, transaction(services.session_factory) as session:
        yield services, session


def _audit(services: Services, session: Session, action: str, username: str, **details: Any) -> None:
    if services.audit is None:
        return
    services.audit.record(
        session,
        NewAuditEvent(
            actor=_operator(),
            role="admin",
            action=action,
            record_type="account",
            record_id=username,
            party=None,
            source="cli",
            details={k: v for k, v in details.items() if v is not None} or None,
        ),
    )


def _read_password() -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if not password:
            raise InputError("password: nothing on standard input", field="password")
        return password
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise InputError("password: the two entries differ", field="password")
    return first


@users_app.command("create")
@guarded
def create(
    name: str,
    role: Annotated[str, typer.Option("--role", help=", ".join(r.value for r in Role))],
    party: Annotated[str | None, typer.Option("--party", help="EORI of the party (trader, broker)")] = None,
    office: Annotated[str | None, typer.Option("--office", help="customs office code (officer)")] = None,
) -> None:
    """Create an account; the password is read from standard input or prompted for."""
    parsed = accounts.parse_role(role)
    password = _read_password()
    with _admin() as (services, session):
        # The issuing country's EORI format, from the rule pack (issue 13, item 14).
        party = services.compliance.check_eori(party, field="party") if party else party
        account = accounts.create_account(
            session,
            services.identity.passwords,
            username=name,
            role=parsed,
            password=password,
            now=_now(),
            party_eori=party,
            office=office,
        )
        _audit(
            services,
            session,
            "account.create",
            account.username,
            role=account.role,
            party=account.party_eori,
            office=account.office,
        )
    console.print(f"created {account.username} ({account.role}); MFA is enrolled at first login")


@users_app.command("list")
@guarded
def list_(json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List accounts (never secrets)."""
    today = _now().date()
    with open_services() as services, services.session_factory() as session:
        rows: list[dict[str, Any]] = []
        for a in accounts.list_accounts(session):
            mandates = [m.trader_eori for m in current_mandates(session, a.id, today)] if a.role == "broker" else []
            rows.append(
                {
                    "username": a.username,
                    "role": a.role,
                    "party": a.party_eori,
                    "office": a.office,
                    "disabled": a.disabled,
                    "mfa": accounts.has_mfa(session, a),
                    "mandates": mandates,
                }
            )
    if json_output:
        print_json(rows)
        return
    table = Table("username", "role", "party", "office", "mfa", "disabled", "mandates")
    for r in rows:
        table.add_row(
            r["username"],
            r["role"],
            r["party"] or "",
            r["office"] or "",
            "yes" if r["mfa"] else "no",
            "yes" if r["disabled"] else "",
            ", ".join(r["mandates"]),
        )
    console.print(table)


@users_app.command("disable")
@guarded
def disable(name: str) -> None:
    """Disable an account and revoke all its sessions."""
    with _admin() as (services, session):
        account = accounts.disable_account(session, name, now=_now())
        _audit(services, session, "account.disable", account.username)
    console.print(f"disabled {account.username}; all its tokens are revoked")


@users_app.command("enable")
@guarded
def enable(name: str) -> None:
    """Enable a disabled account."""
    with _admin() as (services, session):
        account = accounts.enable_account(session, name)
        _audit(services, session, "account.enable", account.username)
    console.print(f"enabled {account.username}")


@users_app.command("reset-mfa")
@guarded
def reset_mfa(name: str) -> None:
    """Remove every second factor (TOTP, passkeys, recovery codes) and revoke all sessions."""
    with _admin() as (services, session):
        account = accounts.reset_mfa(session, name, now=_now())
        _audit(services, session, "account.reset-mfa", account.username)
    console.print(f"MFA reset for {account.username}; the next login enrols a new second factor")


@users_app.command("set-role")
@guarded
def set_role(name: str, role: Annotated[str, typer.Option("--role")]) -> None:
    """Change an account's role (revokes its sessions)."""
    with _admin() as (services, session):
        account = accounts.set_role(session, name, role, now=_now())
        _audit(services, session, "account.set-role", account.username, role=account.role)
    console.print(f"{account.username} is now {account.role}")


@users_app.command("grant-mandate")
@guarded
def grant(
    broker: str,
    trader: Annotated[str, typer.Option("--for", help="EORI of the trader giving the mandate")],
    until: Annotated[str, typer.Option("--until", help="last valid day, YYYY-MM-DD")],
) -> None:
    """Record that trader EORI lets BROKER lodge and read its declarations until DATE."""
    try:
        valid_until = date.fromisoformat(until)
    except ValueError:
        raise InputError("until: a date as YYYY-MM-DD", field="until") from None
    with _admin() as (services, session):
        trader = services.compliance.check_eori(trader, field="for")
        account = session.scalars(
            select(Account).where(Account.username == accounts.normalize_username(broker))
        ).one_or_none()
        if account is None or account.role != Role.BROKER.value:
            raise InputError(f"broker: {broker!r} is not a broker account", field="broker")
        mandate = grant_mandate(
            session,
            broker_id=account.id,
            trader_eori=trader,
            valid_until=valid_until,
            now=_now(),
            granted_by=_operator(),
        )
        _audit(
            services,
            session,
            "mandate.grant",
            account.username,
            trader=mandate.trader_eori,
            until=mandate.valid_until.isoformat(),
        )
    console.print(f"mandate: {mandate.trader_eori} -> {account.username} until {mandate.valid_until}")
