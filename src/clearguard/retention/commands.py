"""`clearguard retention ...`: policies, legal holds, disposal runs. Services come from the
composition root (cli_support.open_services), as the server's do."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, date, datetime
from typing import Annotated

import typer
from rich.table import Table

from clearguard.cli_support import console, guarded, load_settings, open_services, print_json, progress_bar
from clearguard.errors import InputError

retention_app = typer.Typer(help="Retention policies, legal holds and disposal.", no_args_is_help=True)
hold_app = typer.Typer(help="Legal holds: nothing they cover is erased by any path.", no_args_is_help=True)
retention_app.add_typer(hold_app, name="hold")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def parse_date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{field}: {value!r} is not a date in the form YYYY-MM-DD", field=field) from None


@retention_app.command("policies")
@guarded
def policies(json_output: JsonOpt = False) -> None:
    """The retention policies in force: per jurisdiction, record kind and data category."""
    from clearguard.retention import load_policies

    policy_set = load_policies(load_settings().retention_policy_file)
    if json_output:
        print_json(policy_set.to_dict())
        return
    console.print(f"policies {policy_set.version} (from {policy_set.source})", soft_wrap=True)
    table = Table("id", "jurisdiction", "record", "categories", "start", "period")
    for p in policy_set.policies:
        d = p.to_dict()
        table.add_row(d["id"], d["jurisdiction"], d["record"], ", ".join(d["categories"]), d["start"], d["period"])
    console.print(table)
    console.print("legal bases: `clearguard retention policies --json`", soft_wrap=True)
    for name, members in policy_set.jurisdictions.items():
        console.print(f"{name}: {', '.join(members)}", soft_wrap=True)
    console.print("other countries: the longest period of any policy for the record and category", soft_wrap=True)


@hold_app.command("add")
@guarded
def hold_add(
    reason: Annotated[str, typer.Option("--reason", help="why the records must be kept")],
    owner: Annotated[str, typer.Option("--owner", help="who answers for the hold")],
    party: Annotated[str | None, typer.Option("--party", help="a trader's EORI, or a stored party reference")] = None,
    person: Annotated[
        str | None, typer.Option("--person", help="a natural person's name (with --postcode, --country)")
    ] = None,
    postcode: Annotated[str | None, typer.Option("--postcode")] = None,
    country: Annotated[str | None, typer.Option("--country")] = None,
    mrn: Annotated[str | None, typer.Option("--mrn", help="one declaration")] = None,
    case: Annotated[
        str | None, typer.Option("--case", help="the appeal, court case or audit it serves (with --party or --mrn)")
    ] = None,
    review: Annotated[str | None, typer.Option("--review", help="review date, YYYY-MM-DD")] = None,
    json_output: JsonOpt = False,
) -> None:
    """Place a legal hold on a party (every declaration it appears in) or one declaration."""
    review_date = parse_date(review, "review") if review is not None else None
    if person is None and (postcode is not None or country is not None):
        raise InputError("person: --postcode and --country go with --person NAME", field="person")
    named = (person, postcode, country or "") if person is not None else None
    with open_services() as services:
        hold = services.retention.add_hold(
            party=party, person=named, mrn=mrn, case_id=case, reason=reason, owner=owner, review=review_date,
            actor=_actor(),
        )  # fmt: skip
    if json_output:
        print_json(hold.to_dict())
        return
    console.print(f"hold {hold.id} placed on {hold.scope} {hold.target}", soft_wrap=True)


@hold_app.command("list")
@guarded
def hold_list(
    json_output: JsonOpt = False,
    all_holds: Annotated[bool, typer.Option("--all", help="released holds too")] = False,
) -> None:
    """Legal holds in force (with --all, released ones too)."""
    with open_services() as services:
        found = services.retention.list_holds(active_only=not all_holds)
    if json_output:
        print_json([h.to_dict() for h in found])
        return
    table = Table("id", "scope", "target", "case", "owner", "review", "since", "released")
    for h in found:
        table.add_row(
            str(h.id), h.scope, h.target, h.case_id or "", h.owner, h.review.isoformat() if h.review else "",
            h.created_at.date().isoformat(), h.released_at.date().isoformat() if h.released_at else "",
        )  # fmt: skip
    console.print(table)


@hold_app.command("release")
@guarded
def hold_release(
    hold_id: Annotated[int, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option("--reason", help="why the hold ends")],
    json_output: JsonOpt = False,
) -> None:
    """Release a legal hold; what it kept becomes due again under its policy."""
    with open_services() as services:
        hold = services.retention.release_hold(hold_id, reason=reason, actor=_actor())
    if json_output:
        print_json(hold.to_dict())
        return
    console.print(f"hold {hold.id} released", soft_wrap=True)


@retention_app.command("run")
@guarded
def run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="say what is due, dispose of nothing")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
    json_output: JsonOpt = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="simulate a later date (YYYY-MM-DD); CLEARGUARD_ENV dev or test only")
    ] = None,
) -> None:
    """Dispose of every record whose retention period is over and that no hold keeps: crypto-shred
    the keys of parties with nothing left to keep, empty the rows, and write a disposal certificate
    to the ledger. Safe to run twice; a run that was interrupted is finished by the next."""
    settings = load_settings()
    when: datetime | None = None
    if as_of is not None:
        if settings.env not in ("dev", "test"):
            raise InputError(
                f"as-of: simulating a date is allowed only when CLEARGUARD_ENV is dev or test (it is {settings.env})",
                field="as-of",
            )
        when = datetime.combine(parse_date(as_of, "as-of"), datetime.min.time(), tzinfo=UTC)
    with open_services() as services:
        if not dry_run and not yes:
            if not sys.stdin.isatty():
                raise InputError("yes: disposal is irreversible; without a terminal, confirm with --yes", field="yes")
            preview = services.retention.run(as_of=when, actor=_actor(), dry_run=True)
            typer.confirm(
                f"Irreversibly dispose of {preview.counts['declarations']} declarations ({preview.held} due but held)?",
                abort=True,
                err=True,
            )
        with progress_bar("disposing", enabled=not dry_run) as update:
            report = services.retention.run(as_of=when, actor=_actor(), dry_run=dry_run, progress=update)
        crypto = services.crypto
        if crypto is not None and not dry_run:
            crypto.finish_shreds(services.session_factory)
    if json_output:
        print_json(report.to_dict())
        return
    counts = report.counts
    verb = "would dispose of" if dry_run else ("resumed run and disposed of" if report.resumed else "disposed of")
    console.print(
        f"{verb} {counts['declarations']} declarations ({counts['versions']} versions, "
        f"{counts['risk_records']} risk records), {counts['traveller_records']} traveller records; "
        f"{counts['parties_shredded']} parties' keys shredded; {report.held} due but held",
        soft_wrap=True,
    )
    for policy, n in sorted(report.by_policy.items()):
        console.print(f"  {policy}: {n}", soft_wrap=True)
    if report.certificate is not None:
        console.print(
            f"certificate: run {report.run}, ledger entry {report.certificate['ledger_index']}", soft_wrap=True
        )
