"""`clearguard audit report`: the trail since a date, as JSON, CSV or HTML."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from clearguard import db
from clearguard.audit.report import FORMATS, render
from clearguard.audit.service import AuditQuery, AuditService
from clearguard.cli_support import console, guarded, load_settings
from clearguard.errors import InputError

audit_app = typer.Typer(help="Audit trail: reports for auditors.", no_args_is_help=True)


@audit_app.callback()
def audit_group() -> None:
    """Audit trail: reports for auditors."""


def parse_when(value: str, name: str) -> datetime:
    """A date (midnight UTC) or an ISO 8601 date-time (UTC if no offset)."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"{name}: {value!r} is not an ISO date or date-time", field=name) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@audit_app.command("report")
@guarded
def report(
    since: Annotated[str, typer.Option("--since", help="ISO date or date-time (UTC)")],
    fmt: Annotated[str, typer.Option("--format", help="json | csv | html")] = "json",
    until: Annotated[str | None, typer.Option(help="ISO date or date-time, exclusive")] = None,
    actor: Annotated[str | None, typer.Option(help="only this principal")] = None,
    party: Annotated[str | None, typer.Option(help="only this party (blind index)")] = None,
    record: Annotated[str | None, typer.Option(help="only this record id")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write here instead of stdout")] = None,
) -> None:
    """Every audit event since DATE, oldest first."""
    if fmt not in FORMATS:
        raise InputError(f"format: one of {', '.join(FORMATS)}", field="format")
    start = parse_when(since, "since")
    end = parse_when(until, "until") if until else None
    settings = load_settings()
    engine = db.make_engine(settings.database_url)
    try:
        with db.make_session_factory(engine)() as session:
            query = AuditQuery(actor=actor, party=party, record_id=record, since=start, until=end, limit=1_000_000)
            events = AuditService().query(session, query)
    finally:
        engine.dispose()
    text = render(events, fmt, generated_at=datetime.now(UTC), since=start)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"{len(events)} events written to {output}")
