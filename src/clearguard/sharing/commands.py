"""`clearguard sharing ...`: the instance's identity, partners, agreements, sending and receiving.

Bad input (a malformed identity file, an unknown category, a bad date) exits 2 with one line naming
the option and the rule, and changes nothing; a refused package exits 1 naming the reason.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from clearguard.access.roles import Perm
from clearguard.cli_support import console, err_console, fail, guarded, load_settings, open_services, print_json
from clearguard.declarations.results import Actor
from clearguard.errors import InputError
from clearguard.ledger.commands import mirror as ledger_mirror
from clearguard.sharing.errors import PackageRefused, SharingError, SharingInputError
from clearguard.sharing.service import SharingService
from clearguard.sharing.statistics_command import statistics_app
from clearguard.user_files import read_limited

app = typer.Typer(help="Exchange with partner customs administrations (agreements, packages).", no_args_is_help=True)
partner_app = typer.Typer(help="Partner administrations.", no_args_is_help=True)
agreement_app = typer.Typer(help="Sharing agreements.", no_args_is_help=True)
app.add_typer(partner_app, name="partner")
app.add_typer(agreement_app, name="agreement")
app.add_typer(statistics_app)  # `clearguard sharing statistics` (sharing.statistics_command)
# `clearguard sharing mirror`: the partners' logs copied and verified against our cosignatures (the ledger's).
app.command("mirror", help="Mirror partners' published logs (incremental, verified); same as `ledger mirror`.")(
    ledger_mirror
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
MAX_DOCUMENT = 64_000


def _actor(role: str = "system") -> Actor:
    return Actor(name=os.environ.get("CLEARGUARD_OPERATOR") or f"cli:{getpass.getuser()}", role=role, source="cli")


@contextmanager
def _sharing() -> Iterator[SharingService]:
    with open_services() as services:
        if services.sharing is None:  # pragma: no cover - build_services always wires it
            raise SharingError("sharing is not wired")
        # A staff account named by CLEARGUARD_OPERATOR needs its current training, as on the API.
        services.gate_operator(_actor().name, Perm.SHARING_MANAGE)
        yield services.sharing


def _read_text(path: Path, what: str, max_bytes: int = MAX_DOCUMENT) -> str:
    raw = read_limited(path, max_bytes=max_bytes, setting=what)
    try:
        return raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise SharingInputError(f"{path}: {what} is not ASCII text", field=what) from None


def _write(path: Path, data: bytes) -> None:
    """Written 0600 (the operator's), refusing to replace an existing file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(f"--out: {path} exists; name a new file", field="out") from None
    except OSError as exc:
        raise InputError(f"--out: {path} cannot be written ({exc.strerror})", field="out") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SharingInputError(
            f"{option}: {value[:40]!r} is not a date (YYYY-MM-DD)", field=option.strip("-")
        ) from None


@app.command("identity")
@guarded
def identity_cmd(as_json: JsonOpt = False) -> None:
    """Print this administration's identity document, signed by its sharing key (give it to partners)."""
    with _sharing() as sharing:
        document = sharing.identity_document()
        if as_json:
            keys = sharing.keys()
            settings = sharing.settings
            print_json({"name": settings.administration_name, "country": settings.country, "kid": keys.kid,
                        "url": settings.public_url, "document": document})  # fmt: skip
        else:
            typer.echo(document)


def _identity_from_file(path: Path) -> str:
    text = _read_text(path, "identity")
    if text.startswith("{"):  # the --json form of `sharing identity`
        try:
            data = json.loads(text)
            text = str(data["document"])
        except (ValueError, KeyError, TypeError):
            raise SharingInputError(f"{path}: identity JSON without a document", field="identity") from None
    return text


@partner_app.command("add")
@guarded
def partner_add(
    name: Annotated[str, typer.Argument(help="local name of the partner (a-z 0-9 - _ .)")],
    identity: Annotated[Path, typer.Option("--identity", help="the partner's `sharing identity` output")],
    as_json: JsonOpt = False,
) -> None:
    """Register a partner administration from its signed identity document."""
    document = _identity_from_file(identity)
    with _sharing() as sharing:
        added = sharing.add_partner(name, document, actor=_actor())
    if as_json:
        print_json(added)
    else:
        console.print(f"partner {added['name']}: {added['administration']} ({added['country']}), key {added['kid']}")


@partner_app.command("list")
@guarded
def partner_list(as_json: JsonOpt = False) -> None:
    """Registered partner administrations."""
    with _sharing() as sharing:
        partners = sharing.list_partners()
    if as_json:
        print_json(partners)
        return
    for p in partners:
        console.print(f"{p['name']}  {p['administration']} ({p['country']})  {p['url']}", markup=False)


@agreement_app.command("create")
@guarded
def agreement_create(
    partner: Annotated[str, typer.Option("--partner", help="the partner's local name")],
    purpose: Annotated[str, typer.Option("--purpose", help="why the data is shared")],
    legal_basis: Annotated[str, typer.Option("--legal-basis", help="the legal instrument")],
    allow: Annotated[str, typer.Option("--allow", help="data categories: code,trade,confidential,personal")],
    valid_from: Annotated[str, typer.Option("--from", help="first day in force (YYYY-MM-DD)")],
    valid_until: Annotated[str, typer.Option("--until", help="last day in force (YYYY-MM-DD)")],
    fields: Annotated[str | None, typer.Option("--fields", help="field paths, e.g. items/commodity_code")] = None,
    pseudonymise: Annotated[bool, typer.Option("--pseudonymise", help="parties as per-partner pseudonyms")] = False,
    max_per_day: Annotated[int | None, typer.Option("--max-per-day", help="packages a day at most")] = None,
    retention_days: Annotated[int, typer.Option("--retention-days", help="how long the partner keeps it")] = 365,
    as_json: JsonOpt = False,
    out: Annotated[Path | None, typer.Option("--out", help="write the signed agreement here")] = None,
) -> None:
    """Propose an agreement to a partner; it takes effect once the partner countersigns it."""
    start, end = _date(valid_from, "--from"), _date(valid_until, "--until")
    with _sharing() as sharing:
        created, document = sharing.create_agreement(
            partner=partner, purpose=purpose, legal_basis=legal_basis, allow=allow, fields=fields,
            pseudonymise=pseudonymise, valid_from=start, valid_until=end, max_per_day=max_per_day,
            retention_days=retention_days, actor=_actor(),
        )  # fmt: skip
    if out is not None:
        _write(out, (document + "\n").encode())
    if as_json:
        print_json({"id": created["id"]})
    else:
        typer.echo(created["id"])


@agreement_app.command("accept")
@guarded
def agreement_accept(
    file: Annotated[Path, typer.Argument(help="the agreement the partner signed")],
    out: Annotated[Path | None, typer.Option("--out", help="write the countersignature here")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify a partner's agreement, accept and countersign it."""
    document = _read_text(file, "agreement")
    with _sharing() as sharing:
        accepted, counter = sharing.accept_agreement(document, actor=_actor())
        undelivered = sharing.deliver_countersignature(accepted["id"], counter)
    if out is not None:
        _write(out, (counter + "\n").encode())
    if as_json:
        print_json({"id": accepted["id"], "countersignature": counter, "delivered": undelivered is None})
        return
    console.print(f"accepted {accepted['id']} from {accepted['partner']}", markup=False)
    if undelivered is None:
        console.print(f"countersignature delivered to {accepted['partner']}", markup=False)
    else:
        err_console.print(f"countersignature not delivered ({undelivered}): hand it over", markup=False)
        if out is None:
            typer.echo(counter)


@agreement_app.command("countersign")
@guarded
def agreement_countersign(
    file: Annotated[Path, typer.Argument(help="the partner's countersignature")], as_json: JsonOpt = False
) -> None:
    """Import the partner's countersignature of an agreement we proposed: it is then in force."""
    text = _read_text(file, "countersignature")
    with _sharing() as sharing:
        row = sharing.import_countersignature(text, actor=_actor())
    if as_json:
        print_json(row)
    else:
        console.print(f"{row['id']}: {row['status']}", markup=False)


def _agreement_line(a: dict[str, Any]) -> str:
    return (
        f"{a['id']}  {a['direction']:<8} {a['partner']:<16} {a['status']:<9} "
        f"{a['valid_from']}..{a['valid_until']}  {','.join(a['categories'])}"
        + ("  pseudonymised" if a["pseudonymise"] else "")
    )


@agreement_app.command("list")
@guarded
def agreement_list(as_json: JsonOpt = False) -> None:
    """Agreements, proposed, accepted and revoked."""
    with _sharing() as sharing:
        rows = sharing.list_agreements()
    if as_json:
        print_json(rows)
        return
    for a in rows:
        console.print(_agreement_line(a), markup=False)


@agreement_app.command("show")
@guarded
def agreement_show(agreement_id: Annotated[str, typer.Argument(metavar="ID")], as_json: JsonOpt = False) -> None:
    """One agreement with its signed document."""
    with _sharing() as sharing:
        row = sharing.show_agreement(agreement_id)
    if as_json:
        print_json(row)
        return
    console.print(_agreement_line(row), markup=False)
    for key in ("purpose", "legal_basis", "fields", "max_per_day", "retention_days"):
        console.print(f"  {key}: {row[key]}", markup=False, soft_wrap=True)


@agreement_app.command("revoke")
@guarded
def agreement_revoke(
    agreement_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option("--reason", help="why")],
    as_json: JsonOpt = False,
) -> None:
    """Revoke an agreement: nothing more is sent or received under it."""
    with _sharing() as sharing:
        row = sharing.revoke_agreement(agreement_id, reason=reason, actor=_actor())
    if as_json:
        print_json(row)
    else:
        console.print(f"{row['id']}: revoked", markup=False)


@app.command("send")
@guarded
def send(
    mrn: Annotated[str, typer.Argument(help="the declaration to share")],
    agreement: Annotated[str, typer.Option("--agreement", help="the agreement id")],
    out: Annotated[Path | None, typer.Option("--out", help="write the package here instead of pushing it")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Share a declaration under an agreement: pushed to the partner's inbox over mutual TLS, or --out."""
    if out is not None and out.exists():
        raise InputError(f"--out: {out} exists; name a new file", field="out")
    with _sharing() as sharing:
        result = sharing.send(mrn, agreement, actor=_actor(), push=out is None)
    if out is not None:
        _write(out, result.package)
    if as_json:
        print_json(result.to_dict())
    else:
        where = f"written to {out}" if out is not None else f"delivered to {result.partner}"
        console.print(
            f"{result.id}: {result.disclosed} disclosed, {result.withheld} withheld, ledger entry "
            f"{result.ledger_index}, {where}",
            markup=False,
        )


@app.command("import")
@guarded
def import_package(file: Annotated[Path, typer.Argument(help="a package file")], as_json: JsonOpt = False) -> None:
    """Receive a package file: the same checks as the inbox. Exit 1 naming the reason if refused."""
    settings = load_settings()
    data = read_limited(file, max_bytes=settings.sharing_inbox_max_bytes, setting="CLEARGUARD_SHARING_INBOX_MAX_BYTES")
    with _sharing() as sharing:
        try:
            received = sharing.receive(data, via=None, actor=_actor())
        except PackageRefused as exc:  # the reason first: what a script or an operator acts on
            raise fail(f"package refused ({exc.reason}): {exc} [receipt {exc.extra.get('receipt')}]", 1) from None
    if as_json:
        print_json(received)
    else:
        console.print(f"{received['id']}: received from {received['partner']}", markup=False)


@app.command("inbox")
@guarded
def inbox(as_json: JsonOpt = False) -> None:
    """Packages received and refused."""
    with _sharing() as sharing:
        rows = sharing.inbox()
    if as_json:
        print_json(rows)
        return
    for r in rows:
        what = r["declaration_type"] if r["status"] == "received" else f"refused: {r['reason']}"
        console.print(f"{r['id']}  {r['received_at']}  {r['partner'] or '-'}  {what}", markup=False)


@app.command("show")
@guarded
def show(package_id: Annotated[str, typer.Argument(metavar="ID")], as_json: JsonOpt = False) -> None:
    """A received package's disclosed fields (pseudonyms in place of withheld identities)."""
    with _sharing() as sharing:
        row = sharing.show(package_id, actor=_actor())
    if as_json:
        print_json(row)
        return
    console.print(f"{row['id']} from {row['partner']} under {row['agreement']}", markup=False)
    console.print(json.dumps(row["claims"], indent=2, ensure_ascii=False), markup=False, soft_wrap=True)


@app.command("dispose")
@guarded
def dispose(as_json: JsonOpt = False) -> None:
    """Delete the claims of received packages past their agreement's retention date."""
    with _sharing() as sharing:
        report = sharing.dispose_due(actor=_actor())
    if as_json:
        print_json(report)
    else:
        console.print(f"{report['disposed']} received package(s) disposed of", markup=False)


@app.command("reidentify")
@guarded
def reidentify(
    value: Annotated[str, typer.Argument(metavar="PSEUDONYM")],
    partner: Annotated[str, typer.Option("--partner", help="the partner we gave it to")],
    reason: Annotated[str, typer.Option("--reason", help="why (audited)")],
    as_json: JsonOpt = False,
) -> None:
    """The identity behind a pseudonym we gave a partner (the DPO; audited)."""
    with _sharing() as sharing:
        found = sharing.reidentify(value, partner=partner, reason=reason, actor=_actor(role="dpo"))
    if as_json:
        print_json(found)
    else:
        typer.echo(found["identity"])
