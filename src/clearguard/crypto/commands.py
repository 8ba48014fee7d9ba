"""`clearguard keys ...`: init, status, rotate, shred. The lead mounts `keys_app` in clearguard.cli.

Status, rotate and shred get their services from the composition root (clearguard.wiring, through
cli_support.open_services), as the server does: a shred from here runs the same shred listeners
(the declarations' index erasure) in the same transaction as the server's would.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clearguard.cli_support import console, guarded, load_settings, open_services, print_json

keys_app = typer.Typer(help="Key-encryption keys, data keys, rotation and crypto-shredding.", no_args_is_help=True)


def _age(created: datetime) -> str:
    days = (datetime.now(UTC) - created).days
    return "today" if days == 0 else f"{days} d"


@keys_app.command("init")
@guarded
def keys_init() -> None:
    """Create missing key material: KEKs (file or token), blind-index and backup keys, the share store,
    the local CA and the localhost server certificate. Safe to run again."""
    from clearguard.crypto.setup import init_keys
    from clearguard.crypto.tls import init_tls

    settings = load_settings()
    created = init_keys(settings) + init_tls(settings.keys_dir)
    for line in created or ["all keys already present"]:
        console.print(line, soft_wrap=True)


@keys_app.command("status")
@guarded
def keys_status(json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Key-encryption key versions, their ages and how many data keys each wraps."""
    from clearguard import db

    with open_services() as services:
        service = services.key_service()
        factory = services.session_factory
        service.finish_shreds(factory)
        with db.transaction(factory) as session:
            status = service.status(session)
    if json_output:
        print_json(
            {
                "provider": status.provider,
                "current_version": status.current_version,
                "versions": [
                    {
                        "version": v.version,
                        "provider": v.provider,
                        "created_at": v.created_at.isoformat(),
                        "data_keys": v.data_keys,
                    }
                    for v in status.versions
                ],
                "live_keys": status.live_keys,
                "shredded_keys": status.shredded_keys,
                "pending_rewrap": status.pending_rewrap,
            }
        )
        return
    table = Table("KEK version", "provider", "created", "age", "data keys")
    for v in status.versions:
        current = " (current)" if v.version == status.current_version else ""
        table.add_row(
            f"v{v.version}{current}",
            v.provider,
            v.created_at.strftime("%Y-%m-%d %H:%M"),
            _age(v.created_at),
            str(v.data_keys),
        )
    console.print(table)
    console.print(f"live data keys: {status.live_keys}   shredded: {status.shredded_keys}", soft_wrap=True)
    if status.pending_rewrap:
        console.print(
            f"[yellow]{status.pending_rewrap} data keys still under older versions: "
            "run `clearguard keys rotate` to finish[/yellow]",
            soft_wrap=True,
        )


@keys_app.command("rotate")
@guarded
def keys_rotate() -> None:
    """New KEK version, then rewrap every data key (resumes an unfinished rotation instead)."""
    with open_services() as services:
        service = services.key_service()
        with Progress(
            TextColumn("rewrapping data keys"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("rotate", total=None)

            def report(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = service.rotate(services.session_factory, progress=report)
    verb = "resumed rotation to" if result.resumed else "rotated to"
    console.print(f"{verb} KEK v{result.version}: {result.rewrapped} data keys rewrapped", soft_wrap=True)


@keys_app.command("shred")
@guarded
def keys_shred(
    party: Annotated[
        str | None,
        typer.Option("--party", help="a trader's EORI (eori:GB123456789000 or GB123456789000), or a stored reference"),
    ] = None,
    person: Annotated[
        str | None, typer.Option("--person", help="a natural person's name (with --postcode, --country)")
    ] = None,
    postcode: Annotated[str | None, typer.Option("--postcode")] = None,
    country: Annotated[str | None, typer.Option("--country")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Destroy a party's data key: its fields read as erased everywhere, old backups included.
    Irreversible."""
    from clearguard import db
    from clearguard.errors import InputError

    if (party is None) == (person is None):
        raise InputError("party: give either --party EORI or --person NAME --country CC", field="party")
    if person is not None and not country:
        raise InputError("country: --person needs --country (and --postcode when the address has one)", field="country")
    label = party or person or ""
    with open_services() as services:
        service = services.key_service()
        erasure = services.erasure
        reference: str = (
            erasure.trader_reference(party) if party is not None
            else erasure.person_reference(person or "", postcode, country or "")
        )  # fmt: skip
        if not yes:
            typer.confirm(f"Irreversibly erase every protected field of {label}?", abort=True)
        factory = services.session_factory
        # The keys, and (through the shred listeners) the party's indexes and references, in one
        # transaction: either all of it is erased or none.
        with db.transaction(factory) as session:
            count = service.shred(session, reference)
        service.finish_shreds(factory)
    if count == 0:
        console.print(f"{label} has no data key: nothing to shred", soft_wrap=True)
    else:
        console.print(f"shredded {label}: its protected fields now read as erased", soft_wrap=True)
