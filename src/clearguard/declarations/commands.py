"""`clearguard declarations ...`: validate, lodge, import, show, list, amend, decide, invalidate."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clearguard.cli_support import console, err_console, guarded, load_settings, open_services, print_json
from clearguard.compliance.findings import Finding, Severity
from clearguard.declarations.files import count_lines, read_document, read_json_lines
from clearguard.declarations.lifecycle import Decision
from clearguard.declarations.results import Actor, ListFilter, LodgeResult
from clearguard.errors import ClearGuardError

app = typer.Typer(help="Lodge, validate and clear customs declarations.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def cli_actor() -> Actor:
    return Actor(name=f"cli:{getpass.getuser()}", role="system", source="cli")


def _print_findings(findings: list[dict[str, Any]]) -> None:
    if not findings:
        console.print("no findings")
        return
    table = Table("severity", "rule", "field", "message", show_lines=False)
    for f in findings:
        colour = {"error": "red", "warning": "yellow", "review": "cyan"}.get(f["severity"], "white")
        table.add_row(f"[{colour}]{f['severity']}[/{colour}]", f["rule_id"], f["pointer"] or "/", f["message"])
    console.print(table)


@app.command()
@guarded
def validate(file: Path, json_output: JsonOpt = False) -> None:
    """Check a declaration against the schema and the rule pack. Exit 0 valid, 1 invalid, 2 unreadable."""
    settings = load_settings()
    doc = read_document(file, max_bytes=settings.max_request_bytes)
    with open_services() as services:
        findings = services.declarations.validate(doc)
    valid = not any(f.severity is Severity.ERROR for f in findings)
    rows = [f.to_dict() for f in findings]
    if json_output:
        print_json({"valid": valid, "findings": rows})
    else:
        console.print("[green]valid[/green]" if valid else "[red]invalid[/red]")
        _print_findings(rows)
    if not valid:
        raise typer.Exit(1)


@app.command()
@guarded
def lodge(file: Path, json_output: JsonOpt = False) -> None:
    """Lodge a declaration: prints its MRN and status. Invalid input stores nothing (exit 1)."""
    settings = load_settings()
    doc = read_document(file, max_bytes=settings.max_request_bytes)
    with open_services() as services:
        try:
            result = services.declarations.lodge(doc, cli_actor())
        except ClearGuardError as exc:
            if json_output and "findings" in exc.extra:
                print_json({"mrn": None, "status": "rejected", "findings": exc.extra["findings"]})
                raise typer.Exit(exc.exit_code) from None
            raise
    if json_output:
        print_json(result.to_dict())
        return
    note = "" if result.created else " (already lodged: nothing stored)"
    console.print(f"MRN [bold]{result.mrn}[/bold]  status {result.status}  channel {result.channel}{note}")
    if result.findings:
        _print_findings([f.to_dict() for f in result.findings])


def _outcome_row(line: int, outcome: LodgeResult | ClearGuardError) -> dict[str, Any]:
    if isinstance(outcome, LodgeResult):
        return {"line": line, "mrn": outcome.mrn, "status": outcome.status, "created": outcome.created}
    findings = outcome.extra.get("findings") or [
        Finding("CG-INPUT-001", Severity.ERROR, outcome.field or "", str(outcome)).to_dict()
    ]
    return {"line": line, "error": str(outcome), "findings": findings}


def _json_line(data: dict[str, Any]) -> None:
    """One compact JSON object per line, flushed at once: a reader killed with us still has it."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _remember_lrns(
    lines: Iterator[tuple[int, dict[str, Any] | ClearGuardError]], lrns: dict[int, str | None]
) -> Iterator[tuple[int, dict[str, Any] | ClearGuardError]]:
    """Pass the lines through, keeping each one's LRN (a code, not personal data) for the progress
    lines; the caller drops them once reported, so a large file holds only one batch's worth."""
    for line, doc in lines:
        if not isinstance(doc, ClearGuardError):
            lrn = doc.get("lrn")
            lrns[line] = lrn if isinstance(lrn, str) else None
        yield line, doc


@app.command("import")
@guarded
def import_(
    file: Path,
    json_output: Annotated[
        bool,
        typer.Option(
            "--json",
            help="JSON Lines on stdout: one `committed` object per batch once it has committed (the lines, "
            "LRNs and MRNs it created), then one `summary` object.",
        ),
    ] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=5000)] = 500,
) -> None:
    """Bulk-lodge a JSON Lines file (one declaration per line). Rejected lines are listed, never dropped;
    importing the same file twice adds nothing, so an interrupted import is finished by running it again."""
    settings = load_settings()
    total_lines = count_lines(file)
    created = existing = done = 0
    rejected: list[dict[str, Any]] = []
    lrns: dict[int, str | None] = {}
    with (
        open_services() as services,
        Progress(
            TextColumn("importing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            disable=json_output or not err_console.is_terminal,
        ) as progress,
    ):
        task = progress.add_task("import", total=total_lines)
        lines = _remember_lrns(read_json_lines(file, max_line_bytes=settings.max_import_line_bytes), lrns)
        for batch in services.declarations.lodge_batches(lines, cli_actor(), batch_size=batch_size):
            fresh: list[dict[str, Any]] = []
            repeated: list[dict[str, Any]] = []
            refused: list[int] = []
            for line, outcome in batch:
                progress.advance(task)
                lrn = lrns.pop(line, None)
                if isinstance(outcome, LodgeResult):
                    entry = {"line": line, "lrn": lrn, "mrn": outcome.mrn}
                    if outcome.created:
                        created += 1
                        fresh.append(entry)
                    else:
                        existing += 1
                        repeated.append(entry)
                else:
                    rejected.append(_outcome_row(line, outcome))
                    refused.append(line)
            done += len(batch)
            if json_output:
                # Written only now: lodge_batches yields a batch after its transaction committed.
                _json_line(
                    {
                        "event": "committed",
                        "created": fresh,
                        "already_lodged": repeated,
                        "rejected": refused,
                        "done": done,
                    }
                )
    summary = {"created": created, "already_lodged": existing, "rejected": len(rejected), "rejected_lines": rejected}
    if json_output:
        _json_line({"event": "summary", **summary})
    else:
        console.print(f"created {created}, already lodged {existing}, rejected {len(rejected)}")
        for row in rejected:
            console.print(f"[red]line {row['line']}[/red]: {row['error']}", soft_wrap=True)
            for f in row["findings"]:
                if f["message"] != row["error"]:
                    console.print(f"    {f['rule_id']} {f['pointer'] or '/'}: {f['message']}", soft_wrap=True)
    if rejected:
        raise typer.Exit(1)


@app.command()
@guarded
def show(
    mrn: str,
    json_output: JsonOpt = False,
    version: Annotated[int | None, typer.Option(min=1)] = None,
) -> None:
    """Show one declaration, its history and findings."""
    with open_services() as services:
        view = services.declarations.get(mrn, version=version, actor=cli_actor())
        events = services.declarations.events(mrn)
    data = view.to_dict() | {"events": events}
    if json_output:
        print_json(data)
        return
    console.print(
        f"[bold]{view.mrn}[/bold]  {view.type}  LRN {view.lrn}  office {view.office}  "
        f"status {view.status}  channel {view.channel}  version {view.version}"
    )
    if view.retention is not None:
        r = view.retention
        held = "  held" if r.get("held") else ""
        console.print(f"retention: {r['policy']}, disposal due {r['disposal_due'] or 'never'}{held}", soft_wrap=True)
    print_json(view.document)
    table = Table("at", "from", "to", "actor", "reason")
    for e in events:
        table.add_row(e["at"], e["from"] or "", e["to"], e["actor"], e["reason"] or "")
    console.print(table)


@app.command("list")
@guarded
def list_(
    json_output: JsonOpt = False,
    status: str | None = None,
    office: str | None = None,
    type: Annotated[str | None, typer.Option("--type")] = None,
    party: Annotated[str | None, typer.Option(help="EORI of any party (blind index search)")] = None,
    name: Annotated[str | None, typer.Option(help="a party's name (blind index search)")] = None,
    lrn: str | None = None,
    since: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S%z"])] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: str | None = None,
) -> None:
    """List declarations, newest first, with filters and a cursor for the next page."""
    if since is not None and since.tzinfo is None:
        from datetime import UTC

        since = since.replace(tzinfo=UTC)
    with open_services() as services:
        if party is not None:
            party = services.compliance.check_eori(party, field="party")
        filters = ListFilter(
            status=status, office=office, type=type, party_eori=party, party_name=name, lrn=lrn, since=since
        )
        page = services.declarations.list(filters, limit=limit, cursor=cursor)
    if json_output:
        print_json({"items": [s.to_dict() for s in page.items], "next_cursor": page.next_cursor})
        return
    table = Table("MRN", "type", "LRN", "office", "status", "channel", "v", "lodged")
    for s in page.items:
        table.add_row(
            s.mrn,
            s.type,
            s.lrn,
            s.office,
            s.status,
            s.channel or "",
            str(s.version),
            s.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)
    if page.next_cursor:
        console.print(f"more: --cursor {page.next_cursor}")


@app.command()
@guarded
def amend(
    mrn: str,
    file: Path,
    reason: Annotated[str, typer.Option(help="why the declaration changes")],
    json_output: JsonOpt = False,
) -> None:
    """Amend a declaration before release: adds a version, never overwrites."""
    settings = load_settings()
    doc = read_document(file, max_bytes=settings.max_request_bytes)
    with open_services() as services:
        result = services.declarations.amend(mrn, doc, cli_actor(), reason=reason)
    if json_output:
        print_json(result.to_dict())
    else:
        console.print(f"MRN {result.mrn} version {result.version} status {result.status}")


@app.command()
@guarded
def decide(
    mrn: str,
    decision: Decision,
    reason: Annotated[str, typer.Option(help="the officer's reason")],
    json_output: JsonOpt = False,
) -> None:
    """Record an officer's decision on a declaration under control: release, hold or reject."""
    with open_services() as services:
        summary = services.declarations.decide(mrn, decision, cli_actor(), reason=reason)
    if json_output:
        print_json(summary.to_dict())
    else:
        console.print(f"MRN {summary.mrn} status {summary.status}")


@app.command()
@guarded
def invalidate(mrn: str, reason: Annotated[str, typer.Option()], json_output: JsonOpt = False) -> None:
    """Invalidate a declaration before release."""
    with open_services() as services:
        summary = services.declarations.invalidate(mrn, cli_actor(), reason=reason)
    if json_output:
        print_json(summary.to_dict())
    else:
        console.print(f"MRN {summary.mrn} status {summary.status}")
