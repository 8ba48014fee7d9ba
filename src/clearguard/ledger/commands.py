"""`clearguard ledger ...`: publish, key, verify (database or tiles directory), receipts, witnessing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.orm import Session, sessionmaker

from clearguard.cli_support import (
    console,
    err_console,
    fail,
    guarded,
    load_settings,
    open_ledger,
    open_services,
    open_witness,
    print_json,
)
from clearguard.config import Settings
from clearguard.ledger.commitment import decode_entry
from clearguard.ledger.errors import LedgerError
from clearguard.ledger.note import ed25519_verifier
from clearguard.ledger.receipt import loads_receipt, verify_receipt
from clearguard.ledger.service import LedgerService
from clearguard.ledger.tiles_dir import publish, verify_tiles_dir
from clearguard.ledger.verification import Progress as ProgressFn
from clearguard.ledger.witness_service import WitnessService, add_peer
from clearguard.user_files import read_limited

ledger_app = typer.Typer(help="Tamper-evident ledger: checkpoints, tiles, receipts, witnesses.", no_args_is_help=True)
witness_app = typer.Typer(help="Witnessing: cosign other logs, get ours cosigned.", no_args_is_help=True)
ledger_app.add_typer(witness_app, name="witness")


@dataclass
class LedgerContext:
    settings: Settings
    factory: sessionmaker[Session]
    ledger: LedgerService
    witness: WitnessService


@contextmanager
def ledger_context() -> Iterator[LedgerContext]:
    """The ledger as the composition root wires it (every commitment source registered), so the CLI
    verifies exactly what the server verifies."""
    with open_services() as services:
        witness = services.witness or WitnessService.from_settings(services.settings, ledger=services.ledger)
        yield LedgerContext(services.settings, services.session_factory, services.ledger, witness)


@contextmanager
def progress_bar(label: str) -> Iterator[ProgressFn]:
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@ledger_app.command("key")
@guarded
def key() -> None:
    """Print the log's verifier key (name+hex8+base64), for tlog-tiles clients."""
    typer.echo(open_ledger().vkey())


@ledger_app.command("integrate")
@guarded
def integrate() -> None:
    """Integrate every pending entry now and sign a checkpoint."""
    with ledger_context() as ctx:
        signed = ctx.ledger.integrate_all(ctx.factory)
    if signed is None:
        console.print("nothing pending")
    else:
        console.print(f"checkpoint {signed.checkpoint.size}")


@ledger_app.command("publish")
@guarded
def publish_cmd(
    directory: Annotated[Path, typer.Argument(help="target directory (tlog-tiles layout)")],
) -> None:
    """Integrate pending entries, have the new checkpoint cosigned by the peer witnesses, then write
    the log as C2SP tlog-tiles: tiles, entry bundles, and the cosigned checkpoint. A witness that
    fails is reported (and audited) but does not stop the publication: the next one retries it."""
    with ledger_context() as ctx:
        ctx.ledger.integrate_all(ctx.factory)
        with ctx.witness.client() as client:
            results = ctx.witness.submit(ctx.factory, client, report=False)
        with ctx.factory() as session, progress_bar("publishing") as update:
            checkpoint = publish(session, directory, update)
        # Recorded after publishing, so that the published checkpoint is the cosigned one; the
        # failures' audit events are signed now and published next time.
        ctx.witness.report_failures(ctx.factory, results)
        ctx.ledger.integrate_all(ctx.factory)
    failed = [r for r in results if not r.ok]
    for result in failed:
        err_console.print(f"warning: witness {result.witness}: {result.detail}", markup=False, soft_wrap=True)
    if checkpoint is None:
        raise fail("the ledger is empty: nothing to publish", 1)
    console.print(f"published size {checkpoint.size} to {directory}")


@ledger_app.command("verify")
@guarded
def verify(
    tiles: Annotated[Path | None, typer.Option(help="verify this tiles directory offline instead")] = None,
    key: Annotated[str | None, typer.Option("--key", help="verifier key of the log (with --tiles)")] = None,
    origin: Annotated[str | None, typer.Option(help="expected checkpoint origin (with --tiles)")] = None,
) -> None:
    """Recompute the log and check every checkpoint; name the first divergent entry."""
    if tiles is not None:
        if key is None:
            raise fail("--tiles needs --key VKEY (the log's verifier key)", 2)
        with progress_bar("verifying tiles") as update:
            checkpoint = verify_tiles_dir(tiles, key, origin=origin, progress=update)
        console.print(f"ok: {checkpoint.origin} size {checkpoint.size} verifies against {key.split('+')[0]}")
        return
    if key is not None:
        raise fail("--key goes with --tiles", 2)
    with ledger_context() as ctx, ctx.factory() as session, progress_bar("verifying ledger") as update:
        # What the database cannot say about itself is added (the last signed size kept in var/keys,
        # the entries lost by an accepted restore, named as such, not as tampering); the result is
        # recorded for the self-audit's verification age.
        report, notes = ctx.ledger.verify_recorded(session, update)
    if report.ok:
        console.print(f"ok: {report.size} entries, {report.checkpoints} checkpoints")
        for run, count in sorted(report.disposed.items()):
            entries = "entry" if count == 1 else "entries"
            console.print(f"  {count} {entries}: records disposed of by retention run {run} (see its certificate)")
        for note in notes:
            console.print(f"  {note}", markup=False, soft_wrap=True)
        return
    for problem in report.problems[:20]:
        err_console.print(f"  {problem}", markup=False)
    first = report.first_divergent_index
    where = f"first divergent entry: {first}" if first is not None else "rows or checkpoints disagree (see above)"
    raise fail(f"ledger verification failed ({len(report.problems)} problems); {where}", 1)


@ledger_app.command("receipt")
@guarded
def receipt(index: Annotated[int, typer.Argument(min=0)]) -> None:
    """Print the receipt of one integrated entry (JSON)."""
    with ledger_context() as ctx, ctx.factory() as session:
        typer.echo(ctx.ledger.receipt(session, index).dumps(), nl=False)


@ledger_app.command("verify-receipt")
@guarded
def verify_receipt_cmd(
    file: Annotated[Path, typer.Argument(help="receipt JSON")],
    key: Annotated[str | None, typer.Option("--key", help="log verifier key; default: this log's")] = None,
    record_id: Annotated[
        str | None, typer.Option("--record-id", help="the opaque record id the entry must carry (from the lodging)")
    ] = None,
) -> None:
    """Check a receipt offline: the checkpoint's signature, then the entry's inclusion proof, and
    with --record-id that the included entry is the record's (public entries carry opaque ids)."""
    parsed = loads_receipt(read_limited(file, max_bytes=load_settings().max_request_bytes))
    verifier = ed25519_verifier(key) if key else open_ledger().verifier
    signed = verify_receipt(parsed, [verifier])
    try:
        entered: str | None = decode_entry(parsed.entry).record_id
    except LedgerError:  # an entry of another format: it has no record id
        entered = None
    if record_id is not None and entered != record_id:
        raise fail(f"record_id: the receipt's entry is record {entered}, not {record_id}", 1)
    record = f" (record {entered})" if entered else ""
    console.print(f"ok: entry {parsed.index}{record} is in {signed.checkpoint.origin} at size {signed.checkpoint.size}")


@witness_app.command("add-log")
@guarded
def add_log(
    origin: Annotated[str, typer.Argument(help="the log's checkpoint origin")],
    vkey: Annotated[str, typer.Argument(help="the log's verifier key")],
    url: Annotated[str, typer.Argument(help="the log's URL (tiles prefix)")],
) -> None:
    """Start cosigning another log's checkpoints."""
    with ledger_context() as ctx, ctx.factory() as session, session.begin():
        open_witness().add_log(session, origin, vkey, url)
    console.print(f"witnessing {origin}")


@witness_app.command("key")
@guarded
def witness_key() -> None:
    """Print this instance's cosigner verifier key."""
    typer.echo(open_witness().vkey())


@witness_app.command("add-peer")
@guarded
def add_peer_cmd(
    vkey: Annotated[str, typer.Argument(help="the witness's cosigner verifier key")],
    url: Annotated[str, typer.Argument(help="the witness's submission prefix")],
) -> None:
    """Ask this witness to cosign our checkpoints."""
    with ledger_context() as ctx, ctx.factory() as session, session.begin():
        add_peer(session, vkey, url)
    console.print(f"peer added: {vkey.split('+')[0]}")


@witness_app.command("submit")
@guarded
def submit_cmd() -> None:
    """Send our latest checkpoint to every peer witness and store their cosignatures."""
    with ledger_context() as ctx:
        ctx.ledger.integrate_all(ctx.factory)
        with ctx.witness.client() as client:
            results = ctx.witness.submit(ctx.factory, client)
    print_json([{"witness": r.witness, "ok": r.ok, "detail": r.detail} for r in results])
    if not all(r.ok for r in results):
        raise LedgerError("a witness refused or failed; see above")


@witness_app.command("add-partner")
@guarded
def add_partner(
    name: Annotated[str, typer.Argument(help="the partner administration's name")],
    origin: Annotated[str, typer.Option("--origin", help="its log's checkpoint origin")],
    log_key: Annotated[str, typer.Option("--log-key", help="its log's verifier key")],
    witness_key: Annotated[str, typer.Option("--witness-key", help="its witness's cosigner verifier key")],
    url: Annotated[str, typer.Option("--url", help="its public URL (log at URL/ledger)")],
) -> None:
    """Witness a partner's log, submit ours to its witness, and mirror its tiles (what `sharing
    partner add` does from an identity file)."""
    with ledger_context() as ctx, ctx.factory() as session, session.begin():
        ctx.witness.register_partner(
            session, name=name, origin=origin, log_vkey=log_key, witness_vkey=witness_key, url=url
        )
    console.print(f"partner {name}: witnessing {origin}, submitting to {witness_key.split('+')[0]}, mirroring")


@witness_app.command("alerts")
@guarded
def alerts(
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    origin: Annotated[str | None, typer.Option("--origin", help="only this log's alerts")] = None,
) -> None:
    """Logs that showed a second history: each alert with both checkpoints (the evidence)."""
    with ledger_context() as ctx, ctx.factory() as session:
        found = ctx.witness.alerts(session, origin)
    if json_out:
        print_json(found)
        return
    if not found:
        console.print("no witness alerts")
        return
    for alert in found:
        known, seen = alert["known"], alert["seen"]
        console.print(
            f"{alert['at']}  {alert['id']}  {alert['origin']}  {alert['kind']}: size {known['size']} root "
            f"{known['root']} vs size {seen['size']} root {seen['root']} (ledger entry {alert['ledger_index']})",
            markup=False,
            soft_wrap=True,
        )
        console.print(f"  {alert['detail']}", markup=False, soft_wrap=True)


@ledger_app.command("mirror")
@guarded
def mirror(json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Fetch each partner's new tiles, verify them against its cosigned checkpoint, and keep them under
    var/mirrors/<origin>/ (verify offline with `ledger verify --tiles DIR --key VKEY`)."""
    with ledger_context() as ctx:
        with ctx.witness.client() as client:
            results = ctx.witness.mirrors().mirror_all(ctx.factory, client)
        ctx.ledger.integrate_all(ctx.factory)  # alerts raised are entries of our own log: sign them
    if json_out:
        print_json([r.to_json() for r in results])
    else:
        if not results:
            console.print("no partner logs to mirror")
        for r in results:
            console.print(
                f"{r.name} ({r.origin}): {r.detail}; {r.requests} requests, {r.bytes} bytes -> {r.directory}",
                markup=False,
                soft_wrap=True,
            )
    if not all(r.ok for r in results):
        raise LedgerError("a partner's log was refused or unavailable; see above")
