"""`clearguard sharing statistics`: a k-anonymous, l-diverse release of declaration lines.

`statistics_release` is the body: lines from the declarations service (its narrow statistical read),
the generaliser (sharing.anonymity), then the verifier (sharing.anonymity_check) on the CSV bytes
themselves, and only then the files. `statistics_app` carries the Typer command, mounted under
`clearguard sharing` by the CLI root. The sharing service fills `agreement_check` (an agreement in
force that allows the release's categories); until then the agreement id is passed through to the
report.
"""

from __future__ import annotations

import getpass
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer

from clearguard.access.roles import Perm
from clearguard.cli_support import console, guarded, open_services, print_json
from clearguard.declarations import STATISTICAL_LINE_CATEGORIES as LINE_CATEGORIES
from clearguard.declarations import Actor
from clearguard.sharing.anonymity import QUASI_IDENTIFIERS, AnonymityError, anonymise
from clearguard.sharing.errors import AgreementError, SharingError, SharingInputError
from clearguard.sharing.release import Release, ReleaseRefused, build_release
from clearguard.sharing.service import SharingService

# What may be the sensitive attribute: a line field that is no quasi-identifier (the sensitive column
# leaves exact; quasi-identifiers leave only generalised, the confidential value only as bands).
SENSITIVE_FIELDS: tuple[str, ...] = tuple(sorted(name for name in LINE_CATEGORIES if name not in QUASI_IDENTIFIERS))


class LineSource(Protocol):
    """The declarations service's statistical read (DeclarationService.statistical_lines)."""

    def statistical_lines(
        self, since: datetime, until: datetime, *, actor: Actor | None = None
    ) -> list[dict[str, Any]]: ...


class StatisticsRefused(SharingError):
    """No release: no declarations in the period, or k and l cannot be met within the suppression bound."""

    slug = "statistics-refused"
    title = "No statistical release"
    status = 422
    exit_code = 1


def check_parameters(*, k: int, l: int, sensitive: str) -> None:  # noqa: E741 (the l of l-diversity)
    """Bad input names the option, exit 2, before anything is read."""
    if k < 2:
        raise SharingInputError("--k: must be at least 2", field="k")
    if l < 1:
        raise SharingInputError("--l: must be at least 1", field="l")
    if l > k:
        raise SharingInputError(f"--l: must not exceed --k ({l} > {k})", field="l")
    if sensitive not in SENSITIVE_FIELDS:
        raise SharingInputError(
            f"--sensitive: {sensitive!r} is not a line field; one of {', '.join(SENSITIVE_FIELDS)}",
            field="sensitive",
        )


def _report_path(out: Path) -> Path:
    return out.with_suffix(".json") if out.suffix.lower() == ".csv" else out.with_name(out.name + ".json")


def _write_together(files: list[tuple[Path, bytes]]) -> None:
    """Each file written to a temporary beside it, flushed, then all renamed into place: a failure
    before the renames leaves no file of the release."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files:
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            staged.append((temporary, path))
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
        for temporary, path in staged:
            os.replace(temporary, path)
    finally:
        for temporary, _path in staged:
            Path(temporary).unlink(missing_ok=True)


def statistics_release(
    declarations: LineSource,
    *,
    agreement: str,
    k: int,
    l: int,  # noqa: E741 (the l of l-diversity)
    sensitive: str,
    since: datetime,
    until: datetime,
    out: Path | None = None,
    agreement_check: Callable[[str], None] | None = None,
    actor: Actor | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Release:
    """Reads, generalises, verifies and (with `out`) writes the CSV at `out` and its report beside it
    (`x.csv` -> `x.json`). Nothing is written unless the verifier passed the table."""
    check_parameters(k=k, l=l, sensitive=sensitive)
    if not agreement.strip():
        raise SharingInputError("--agreement: an agreement id is required", field="agreement")
    if since >= until:
        raise SharingInputError("--since: must be before --until", field="since")
    if out is not None:
        if out.exists() and not out.is_file():
            raise SharingInputError(f"--out: {out} is not a regular file", field="out")
        if not out.parent.is_dir():
            raise SharingInputError(f"--out: the directory {out.parent} does not exist", field="out")
    if agreement_check is not None:
        agreement_check(agreement)  # raises AgreementError when no agreement in force allows it
    lines = declarations.statistical_lines(since, until, actor=actor)
    if not lines:
        raise StatisticsRefused(
            f"period: no declarations in force accepted from {since.date()} to {until.date()}", field="period"
        )
    try:
        table = anonymise(lines, k=k, l=l, sensitive=sensitive, quasi_identifiers=QUASI_IDENTIFIERS)
    except AnonymityError as exc:
        raise StatisticsRefused(str(exc), field=exc.field) from None
    try:
        release = build_release(
            table, agreement=agreement, since=since, until=until, categories=dict(LINE_CATEGORIES), created_at=now()
        )
    except ReleaseRefused as exc:
        raise StatisticsRefused(f"verifier: {exc}", field="verifier") from None
    if out is not None:
        _write_together([(out, release.csv), (_report_path(out), release.report_json)])
    return release


# ---------------------------------------------------------------------------------------- the command

statistics_app = typer.Typer(help="Statistical sharing: k-anonymous, l-diverse declaration lines.")


def _day(value: str | None, field: str, default: date) -> datetime:
    if value is None:
        day = default
    else:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise SharingInputError(f"--{field}: {value!r} is not a date in the form YYYY-MM-DD", field=field) from None
    return datetime.combine(day, time.min, tzinfo=UTC)


def _agreement_check(sharing: SharingService | None) -> Callable[[str], None]:
    """The sharing service's check: an agreement of ours, accepted, in force, allowing every
    category the lines draw on (values only as bands, but still drawn from `confidential`)."""
    if sharing is None:
        raise AgreementError("agreement: this instance has no sharing service", field="agreement")
    drawn = {c for c in LINE_CATEGORIES.values() if c is not None}
    return lambda agreement: sharing.check_release(agreement, categories=drawn)


def _operator() -> Actor:
    return Actor(name=os.environ.get("CLEARGUARD_OPERATOR") or getpass.getuser(), role="dpo", source="cli")


@statistics_app.command("statistics")
@guarded
def statistics(
    agreement: Annotated[str, typer.Option("--agreement", help="the agreement the release is made under")],
    sensitive: Annotated[
        str, typer.Option("--sensitive", help="the sensitive attribute: " + ", ".join(SENSITIVE_FIELDS))
    ],
    k: Annotated[int, typer.Option("--k", help="every released class has at least k lines")] = 5,
    l: Annotated[int, typer.Option("--l", help="and at least l distinct sensitive values")] = 2,  # noqa: E741
    since: Annotated[
        str | None, typer.Option("--since", help="first acceptance day, YYYY-MM-DD (default: a year ago)")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="day after the last, YYYY-MM-DD (default: tomorrow)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="write the CSV here and its report beside it (.json)")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Release declaration lines generalised until k-anonymous and l-diverse, checked by an
    independent verifier before they leave. Without --out, only the report is printed."""
    check_parameters(k=k, l=l, sensitive=sensitive)
    today = datetime.now(UTC).date()
    start = _day(since, "since", today - timedelta(days=365))
    end = _day(until, "until", today + timedelta(days=1))
    with open_services() as services:
        services.gate_operator(_operator().name, Perm.SHARING_MANAGE)  # a named staff account: its training
        release = statistics_release(
            services.declarations, agreement=agreement, k=k, l=l, sensitive=sensitive, since=start, until=end,
            out=out, actor=_operator(), agreement_check=_agreement_check(services.sharing),
        )  # fmt: skip
    report = release.report
    if json_output:
        print_json(report)
        return
    rows = report["rows"]
    verdict = report["verifier"]
    console.print(
        f"released {rows['released']} of {rows['in']} lines ({rows['suppressed']} suppressed), "
        f"k = {verdict['k']} (asked {k}), l = {verdict['l']} (asked {l}) on {sensitive}; "
        f"information loss {report['information_loss']['value']}",
        soft_wrap=True,
    )
    for name, level in report["quasi_identifiers"].items():
        console.print(f"  {name}: {level['meaning']}", soft_wrap=True, markup=False)
    if out is not None:
        console.print(f"wrote {out} and {_report_path(out)}", soft_wrap=True, markup=False)
