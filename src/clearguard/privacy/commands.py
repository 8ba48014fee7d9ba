"""`clearguard privacy ...`: the field inventory, subject access reports, data subject requests and
the records of processing. Services come from the composition root (clearguard.wiring)."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from clearguard.cli_support import console, guarded, open_services, print_json

if TYPE_CHECKING:
    from clearguard.declarations.results import Actor
    from clearguard.privacy.service import PrivacyService, Subject
    from clearguard.wiring import Services

privacy_app = typer.Typer(
    help="Field inventory, subject access, rectification and erasure requests, records of processing.",
    no_args_is_help=True,
)
request_app = typer.Typer(help="Data subject requests (access, rectification, erasure).", no_args_is_help=True)
privacy_app.add_typer(request_app, name="request")

Party = Annotated[str | None, typer.Option("--party", help="a trader's EORI")]
Person = Annotated[str | None, typer.Option("--person", help="a natural person's name (with --postcode, --country)")]
Postcode = Annotated[str | None, typer.Option("--postcode")]
Country = Annotated[str | None, typer.Option("--country")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _operator(services: Services) -> Actor:
    """The operator at the console (the CLI runs with the DPO's access to the machine); a staff
    account named by CLEARGUARD_OPERATOR needs its current training, as on the API."""
    from clearguard.access.roles import Perm
    from clearguard.declarations.results import Actor

    actor = Actor(name=os.environ.get("CLEARGUARD_OPERATOR") or getpass.getuser(), role="dpo", source="cli")
    services.gate_operator(actor.name, Perm.PRIVACY_MANAGE)
    return actor


def _subject(service: PrivacyService, party: str | None, person: str | None, postcode: str | None,
             country: str | None) -> Subject:  # fmt: skip
    from clearguard.errors import InputError

    if (party is None) == (person is None):
        raise InputError("party: give either --party EORI or --person NAME --postcode PC --country CC", field="party")
    if party is not None:
        return service.trader(party)
    return service.person(person, postcode, country)


def _check(output: str, allowed: tuple[str, ...]) -> None:
    from clearguard.errors import InputError

    if output not in allowed:
        raise InputError(f"format: one of {', '.join(allowed)}", field="format")


@privacy_app.command("fields")
@guarded
def fields(json_output: JsonOut = False) -> None:
    """Every stored declaration field: category, purpose, legal basis, recipients by role, retention;
    and the other stored personal data, by record kind."""
    with open_services() as services:
        found = services.privacy.fields()
    if json_output:
        print_json(found)
        return
    table = Table("type", "field", "category", "purpose", "legal basis", "recipients", "retention")
    for f in found["fields"]:
        retention = f["retention"] if isinstance(f["retention"], str) else ", ".join(
            f"{j} {p['period']}" for j, p in sorted(f["retention"].items())
        )  # fmt: skip
        table.add_row(
            f["type"], f["pointer"], f["category"], f["purpose"], f["legal_basis"],
            ", ".join(r["role"] for r in f["recipients"]), retention,
        )  # fmt: skip
    console.print(table)
    other = Table("record", "tables", "categories", "purpose", "legal basis")
    for r in found["records"]:
        other.add_row(r["record"], ", ".join(r["tables"]), ", ".join(r["categories"]), r["purpose"], r["legal_basis"])
    console.print(other)


@privacy_app.command("subject-access")
@guarded
def subject_access(
    party: Party = None,
    person: Person = None,
    postcode: Postcode = None,
    country: Country = None,
    output: Annotated[str, typer.Option("--format", help="json, html or pdf")] = "json",
    out: Annotated[Path | None, typer.Option("--out", help="write the report here (mode 0600)")] = None,
) -> None:
    """Everything held on a trader or a natural person (decrypted for this report only), its purposes,
    legal bases, recipients, retention, holds and every access to it. The report is audited."""
    from clearguard.privacy.report import check_format, render

    check_format(output)
    if output == "pdf" and out is None and sys.stdout.isatty():
        from clearguard.errors import InputError

        raise InputError("out: a PDF goes to a file (--out FILE) or a pipe", field="out")
    with open_services() as services:
        subject = _subject(services.privacy, party, person, postcode, country)
        report = services.privacy.subject_access(subject, _operator(services), output=output)
    data = render(report, output)
    if out is not None:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        console.print(f"wrote {out} ({len(report['declarations'])} declarations, {len(report['accesses'])} accesses)")
        return
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


@privacy_app.command("records")
@guarded
def records(output: Annotated[str, typer.Option("--format", help="md or json")] = "md") -> None:
    """Records of processing activities (GDPR Art. 30(1)), generated from the policies and the inventory."""
    from clearguard.privacy.records import markdown

    _check(output, ("md", "json"))
    with open_services() as services:
        record = services.privacy.records()
    if output == "json":
        print_json(record)
    else:
        sys.stdout.write(markdown(record))


@request_app.command("add")
@guarded
def request_add(
    kind: Annotated[str, typer.Option("--kind", help="access, rectification or erasure")],
    details: Annotated[str, typer.Option("--details", help="what the subject asked")],
    party: Party = None,
    person: Person = None,
    postcode: Postcode = None,
    country: Country = None,
    json_output: JsonOut = False,
) -> None:
    """Record a data subject request; its deadline is one calendar month later."""
    from clearguard.errors import InputError
    from clearguard.privacy.service import KINDS

    if kind not in KINDS:
        raise InputError(f"kind: one of {', '.join(KINDS)}", field="kind")
    with open_services() as services:
        subject = _subject(services.privacy, party, person, postcode, country)
        added = services.privacy.add_request(kind, subject, details, _operator(services))
    if json_output:
        print_json(added)
    else:
        console.print(f"request {added['id']} ({kind}) recorded, due {added['deadline']}", soft_wrap=True)


@request_app.command("list")
@guarded
def request_list(
    overdue: Annotated[bool, typer.Option("--overdue", help="only open requests past their deadline")] = False,
    json_output: JsonOut = False,
) -> None:
    """Data subject requests, oldest first."""
    with open_services() as services:
        found = services.privacy.list_requests(_operator(services), overdue=overdue)
    if json_output:
        print_json(found)
        return
    table = Table("id", "kind", "subject", "received", "deadline", "status", "outcome")
    for r in found:
        status = r["status"] + (" (overdue)" if r["overdue"] else "")
        outcome = r["outcome"] or ""
        if r["legal_reason"]:
            outcome += f" - {r['legal_reason']}"
        table.add_row(
            str(r["id"]), r["kind"], r["party_ref"][:20] + "…", r["received_at"][:10], r["deadline"], status, outcome
        )
    console.print(table)


@request_app.command("answer")
@guarded
def request_answer(
    request_id: Annotated[int, typer.Argument(metavar="ID")],
    outcome: Annotated[str | None, typer.Option("--outcome", help="what was done, or why not")] = None,
    json_output: JsonOut = False,
) -> None:
    """Answer a request. An erasure is refused with the legal reason while customs law keeps the data,
    and carried out by crypto-shredding the subject's key where it does not."""
    with open_services() as services:
        answered: dict[str, Any] = services.privacy.answer(request_id, _operator(services), outcome=outcome)
    if json_output:
        print_json(answered)
        return
    line = f"request {answered['id']}: {answered['status']}"
    if answered["legal_reason"]:
        line += f" ({answered['legal_reason']})"
    console.print(line, soft_wrap=True, markup=False)
