"""`clearguard travellers ...`: record, show and list traveller clearance records.

`record` and `show` act for an officer's account (`--officer`), with the same office checks as the
API; bad input exits 2 with one line naming the field, and nothing is written.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from clearguard.access.roles import Perm
from clearguard.cli_support import console, guarded, load_settings, open_services, print_json
from clearguard.travellers import RecordView, parse_input
from clearguard.travellers.record import loads
from clearguard.user_files import read_limited

app = typer.Typer(help="Traveller clearance records (biometric; kept 30 days).", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
OfficerOpt = Annotated[str, typer.Option("--officer", help="the officer's account (username)")]
SOURCE = "cli"


def _read_template(path: Path) -> Any:
    settings = load_settings()
    return loads(read_limited(path, max_bytes=settings.max_request_bytes), source="template")


def _print_view(view: RecordView, *, with_template: bool) -> None:
    data = view.to_dict(with_template=with_template)
    console.print(
        f"[bold]{view.record_id}[/bold]  office {view.office}  officer {view.officer}  "
        f"via {view.declared_via}  {view.created_at:%Y-%m-%d %H:%M}",
        soft_wrap=True,
    )
    if view.erased:
        console.print("traveller: [erased]")
        return
    console.print(f"document {data['document_number']}  nationality {data['nationality']}", markup=False)
    template = data["template"]
    if with_template:
        console.print(f"template {template}", markup=False, soft_wrap=True)
    else:
        console.print(f"template {template['length']} values, sha256 {template['sha256']}…", markup=False)
    for entry in data["goods"]:
        console.print(f"  goods: {entry}", markup=False, soft_wrap=True)


@app.command()
@guarded
def record(
    document: Annotated[str, typer.Option(help="travel document number (A-Z, 0-9, <)")],
    nationality: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 code")],
    template: Annotated[Path, typer.Option(help="face template: a JSON file holding an array of numbers")],
    via: Annotated[str, typer.Option(help="how the goods were declared: oral or red_channel")],
    office: Annotated[str, typer.Option(help="customs office code, e.g. GB000060")],
    officer: OfficerOpt,
    goods: Annotated[list[str] | None, typer.Option(help="one declared item (repeat for each)")] = None,
    json_output: JsonOpt = False,
) -> None:
    """Record a traveller's clearance: sealed under the traveller's own key, audited."""
    data = parse_input(
        {
            "document_number": document,
            "nationality": nationality,
            "template": _read_template(template),
            "declared_via": via,
            "goods": list(goods or []),
            "office": office,
        }
    )
    with open_services() as services:
        services.gate_operator(officer, Perm.TRAVELLERS_RECORD)  # the officer's training, as on the API
        actor = services.identity.account_principal(officer)
        view = services.travellers.record(data, actor, source=SOURCE)
    if json_output:
        print_json(view.to_dict())
    else:
        console.print(f"recorded [bold]{view.record_id}[/bold]  office {view.office}  kept 30 days")


@app.command()
@guarded
def show(
    record_id: str,
    officer: OfficerOpt,
    justification: Annotated[str, typer.Option(help="why the record is opened (audited)")],
    with_template: Annotated[bool, typer.Option("--with-template", help="print the template's values")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Open one record (officers of its office only); the read is audited with the justification."""
    with open_services() as services:
        services.gate_operator(officer, Perm.TRAVELLERS_RECORD)  # the officer's training, as on the API
        actor = services.identity.account_principal(officer)
        view = services.travellers.get(record_id.strip(), actor, justification, source=SOURCE)
    if json_output:
        print_json(view.to_dict(with_template=with_template))
    else:
        _print_view(view, with_template=with_template)


@app.command("list")
@guarded
def list_(
    office: Annotated[str, typer.Option(help="customs office code")],
    officer: Annotated[str | None, typer.Option(help="act as this officer's account (default: operator)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    json_output: JsonOpt = False,
) -> None:
    """The office's records, newest first: metadata only, nothing about any traveller."""
    with open_services() as services:
        if officer:
            services.gate_operator(officer, Perm.TRAVELLERS_READ)
        actor = services.identity.account_principal(officer) if officer else None
        items = services.travellers.list(
            office.strip().upper(), actor, limit=limit, source=SOURCE, operator=f"cli:{getpass.getuser()}"
        )
    if json_output:
        print_json({"items": [s.to_dict() for s in items]})
        return
    table = Table("record", "office", "officer", "via", "recorded")
    for s in items:
        table.add_row(s.record_id, s.office, s.officer, s.declared_via, s.created_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)
