"""`clearguard training ...`: record completions, list them, and the reminders of what is due.

`record` is the server operator's bootstrap path: it works when no administrator can yet use the
API (every privileged account starts without training). It runs as `cli:<unix user>`, or as the
account named by CLEARGUARD_OPERATOR, which is then gated like the API (an untrained administrator
cannot record training, and nobody records their own). Bad input exits 2 naming the field.
"""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from clearguard.access.roles import Perm
from clearguard.cli_support import console, guarded, open_services, print_json
from clearguard.training import TrainingService, parse_day
from clearguard.wiring import Services

training_app = typer.Typer(
    help="Staff training records, reminders, and the gate on privileged roles.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
SOURCE = "cli"


def _service(services: Services) -> TrainingService:
    if services.training is None:
        raise RuntimeError("services.training is not wired")
    return services.training


def _operator() -> str:
    return os.environ.get("CLEARGUARD_OPERATOR") or "cli:" + getpass.getuser()


@training_app.command("record")
@guarded
def record(
    user: Annotated[str, typer.Argument(help="the account (username) that completed the course")],
    course: Annotated[str, typer.Option("--course", help="course, e.g. data-protection")],
    completed: Annotated[str, typer.Option("--completed", help="completion date, YYYY-MM-DD")],
    expires: Annotated[str, typer.Option("--expires", help="expiry date, YYYY-MM-DD (no longer valid from that day)")],
    certificate: Annotated[
        str | None, typer.Option("--certificate", help="certificate reference or number from the provider")
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Record one completion (with its audit event). Access it gates opens at once."""
    completed_on = parse_day(completed, "completed")
    expires_on = parse_day(expires, "expires")
    now = datetime.now(UTC)
    operator = _operator()
    with open_services() as services:
        service = _service(services)
        service.gate_operator(operator, Perm.TRAINING_MANAGE, now)
        completion = service.record(
            user,
            course,
            completed_on,
            expires_on,
            certificate=certificate,
            by=operator,
            role="admin",
            source=SOURCE,
            now=now,
        )
    if json_output:
        print_json(completion.to_dict())
        return
    console.print(
        f"recorded: {completion.username} {completion.course} completed {completion.completed_on} "
        f"expires {completion.expires_on}",
        soft_wrap=True,
    )


@training_app.command("list")
@guarded
def list_(
    user: Annotated[str | None, typer.Argument(help="only this account")] = None,
    json_output: JsonOpt = False,
) -> None:
    """Recorded completions, newest first per account and course."""
    with open_services() as services:
        items = _service(services).list(user)
    if json_output:
        print_json({"items": [c.to_dict() for c in items]})
        return
    table = Table("user", "course", "completed", "expires", "certificate", "recorded by")
    for c in items:
        table.add_row(
            c.username, c.course, c.completed_on.isoformat(), c.expires_on.isoformat(), c.certificate or "",
            c.recorded_by,
        )  # fmt: skip
    console.print(table)


@training_app.command("due")
@guarded
def due(
    within: Annotated[
        int | None, typer.Option("--within", help="days ahead to remind of expiries (default: the setting, 30)")
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Reminders: required training missing or expired (privileged actions refused), and training
    that expires within the reminder period. Exit 0 either way: a report, not a check."""
    with open_services() as services:
        service = _service(services)
        days = service.reminder_days if within is None else within
        gaps = service.due(datetime.now(UTC), within_days=days)
    if json_output:
        print_json({"within_days": days, "items": [g.to_dict() for g in gaps]})
        return
    if not gaps:
        console.print(f"nothing due within {days} days")
        return
    table = Table("user", "role", "course", "status", "reason")
    for g in gaps:
        table.add_row(g.username, g.role, g.course, g.status, g.reason)
    console.print(table)
