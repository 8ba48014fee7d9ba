"""`clearguard risk ...`: history import, train, evaluate, outcome, report, models, show."""

from __future__ import annotations

import getpass
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from clearguard import db
from clearguard.cli_support import console, guarded, load_settings, print_json
from clearguard.config import Settings
from clearguard.risk.errors import RiskInputError
from clearguard.risk.kcs import ParseResult, RejectedRow, iter_kcs
from clearguard.risk.metrics import REVENUE_DEFINITION
from clearguard.risk.record import RiskRecord
from clearguard.risk.service import RiskService
from clearguard.user_files import open_regular

risk_app = typer.Typer(help="Risk engine: history, models, evaluation, outcomes.", no_args_is_help=True)
history_app = typer.Typer(help="Past declaration lines with control outcomes.", no_args_is_help=True)
risk_app.add_typer(history_app, name="history")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]
# A KCS line is a few hundred characters; a longer one is not a KCS file (and never fills memory).
MAX_LINE_CHARS = 1 << 20
FormatOpt = Annotated[Literal["kcs"], typer.Option("--format", help="Input format (kcs: KCS synthetic CSV).")]


@contextmanager
def _sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = db.make_engine(settings.database_url, echo=settings.database_echo)
    try:
        yield db.make_session_factory(engine)
    finally:
        engine.dispose()


def _read_kcs(file: Path, *, progress: Progress | None = None) -> ParseResult:
    """Parses the whole file first, so a file that turns out unreadable half-way stores nothing."""
    try:
        total = file.stat().st_size
        result = ParseResult()
        task = progress.add_task("reading", total=total) if progress is not None else None
        # A regular file only (no /dev/zero, no FIFO), each line bounded (user_files, issue 13).
        with io.TextIOWrapper(open_regular(file), encoding="utf-8", newline="") as handle:
            done = 0

            def lines() -> Iterator[str]:
                nonlocal done
                while line := handle.readline(MAX_LINE_CHARS + 1):
                    if len(line) > MAX_LINE_CHARS:
                        raise RiskInputError(f"{file}: a line longer than {MAX_LINE_CHARS} characters", field="file")
                    done += len(line)
                    yield line

            for count, item in enumerate(iter_kcs(lines())):
                if isinstance(item, RejectedRow):
                    result.rejected.append(item)
                else:
                    result.records.append(item)
                if progress is not None and task is not None and count % 2000 == 0:
                    progress.update(task, completed=done)
        if progress is not None and task is not None:
            progress.update(task, completed=total)
        return result
    except UnicodeDecodeError as exc:
        raise RiskInputError(f"{file}: not UTF-8 (byte {exc.start})", field="file") from None
    except OSError as exc:
        raise RiskInputError(f"{file}: cannot read ({exc.strerror or type(exc).__name__})", field="file") from None


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _parse_version(model: str | None) -> int | None:
    if model is None:
        return None
    text = model.lower().removeprefix("v")
    if not text.isdigit():
        raise RiskInputError(f"--model: {model!r} is not a version such as v3", field="model")
    return int(text)


@history_app.command("import")
@guarded
def history_import(
    file: Path,
    format_: FormatOpt = "kcs",
    json_output: JsonOpt = False,
) -> None:
    """Load past declaration lines with their control outcomes. Idempotent; bad rows are listed
    (exit 1 when some were rejected; the good rows are stored)."""
    settings = load_settings()
    quiet = json_output
    with _progress() if not quiet else _null_progress() as progress:
        parsed = _read_kcs(file, progress=progress)
        with _sessions(settings) as factory, db.transaction(factory) as session:
            service = RiskService(settings)
            task = progress.add_task("storing", total=len(parsed.records)) if progress is not None else None

            def advance(count: int) -> None:
                if progress is not None and task is not None:
                    progress.advance(task, count)

            summary = service.import_history(session, parsed.records, source=format_, progress=advance)
    data: dict[str, Any] = {
        "file": str(file),
        "format": format_,
        "read": summary.read + len(parsed.rejected),
        "inserted": summary.inserted,
        "already_present": summary.already_present,
        "rejected": [{"line": r.line, "reason": r.reason} for r in parsed.rejected],
    }
    if json_output:
        print_json(data)
    else:
        console.print(
            f"{data['read']} rows read: {summary.inserted} imported, "
            f"{summary.already_present} already present, {len(parsed.rejected)} rejected"
        )
        if parsed.rejected:
            table = Table("line", "reason")
            for row in parsed.rejected:
                table.add_row(str(row.line), row.reason)
            console.print(table)
    if parsed.rejected:
        raise typer.Exit(1)


@contextmanager
def _null_progress() -> Iterator[None]:
    yield None


@risk_app.command()
@guarded
def train(
    holdout: Annotated[float, typer.Option(help="Most recent share of history (by date) held out.")] = 0.15,
    seed: Annotated[int, typer.Option(help="Random seed: same seed and history, same model.")] = 42,
    json_output: JsonOpt = False,
) -> None:
    """Train on all history; the new model version becomes the one in use."""
    settings = load_settings()
    with _sessions(settings) as factory, db.transaction(factory) as session:
        info = RiskService(settings).train(session, holdout=holdout, seed=seed)
    if json_output:
        print_json(info.to_json())
        return
    at5 = info.metrics["at"]["0.05"]
    console.print(f"model [bold]{info.name}[/bold] trained on {info.history_lines} lines, now in use")
    console.print(
        f"holdout {info.metrics['holdout_period'][0]}..{info.metrics['holdout_period'][1]} "
        f"({info.metrics['lines']} lines): AUC {info.metrics['auc']:.3f}, "
        f"precision at 5% {at5['precision']:.3f}, recall at 5% {at5['recall']:.3f}"
    )
    console.print(f"data hash {info.data_hash}  file {info.file_path}")


@risk_app.command()
@guarded
def evaluate(
    file: Path,
    format_: FormatOpt = "kcs",
    model: Annotated[str | None, typer.Option("--model", help="Model version (default: current).")] = None,
    json_output: JsonOpt = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="Draw precision and recall to a PNG.")] = None,
) -> None:
    """Precision, recall and revenue at 1/2/5/10% of lines inspected, AUC, beside random selection."""
    settings = load_settings()
    version = _parse_version(model)
    parsed = _read_kcs(file)
    records: list[RiskRecord] = parsed.records
    with _sessions(settings) as factory, factory() as session:
        result = RiskService(settings).evaluate(session, records, version=version)
    document = dict(result.document)
    document["file"] = str(file)
    document["rejected"] = [{"line": r.line, "reason": r.reason} for r in parsed.rejected]
    if plot is not None:
        from clearguard.risk.plot import plot_curves

        plot_curves(plot, result.scores, result.labels, title=f"{document['model']} on {file.name}")
        document["plot"] = str(plot)
    if json_output:
        print_json(document)
        return
    console.print(
        f"model {document['model']} on {document['lines']} lines ({document['violations']} violations): "
        f"AUC {document['auc']:.3f} (random 0.500)"
    )
    table = Table(
        "inspected",
        "precision",
        "recall",
        "revenue",
        "rev. ranking revenue",
        "random precision",
        "random revenue",
    )
    for key, row in document["at"].items():
        rnd = document["random"]["at"][key]
        rev = document["revenue_ranking"]["at"][key]
        table.add_row(
            f"{float(key):.0%}",
            f"{row['precision']:.3f}",
            f"{row['recall']:.3f}",
            f"{row['revenue']:,.0f}",
            f"{rev['revenue']:,.0f}",
            f"{rnd['precision']:.3f}",
            f"{rnd['revenue']:,.0f}",
        )
    console.print(table)
    console.print(REVENUE_DEFINITION)


@risk_app.command()
@guarded
def outcome(
    mrn: str,
    violation: Annotated[bool, typer.Option("--violation/--no-violation", help="Did the control find one?")],
    critical: Annotated[bool, typer.Option("--critical", help="The violation is critical.")] = False,
    duty_recovered: Annotated[float | None, typer.Option(help="Duty recovered, national currency.")] = None,
    note: Annotated[str | None, typer.Option(help="Free text for the record.")] = None,
    json_output: JsonOpt = False,
) -> None:
    """Record a control outcome; the declaration's items join the history for the next `risk train`."""
    settings = load_settings()
    officer = f"cli:{getpass.getuser()}"
    with _sessions(settings) as factory, db.transaction(factory) as session:
        lines = RiskService(settings).record_outcome(
            session,
            mrn,
            officer=officer,
            violation=violation,
            critical=critical,
            duty_recovered=duty_recovered,
            note=note,
        )
    data = {"mrn": mrn, "violation": violation, "critical": critical, "history_lines_added": lines}
    if json_output:
        print_json(data)
    else:
        console.print(f"{mrn}: outcome recorded ({'violation' if violation else 'no violation'}), {lines} line(s)")


@risk_app.command()
@guarded
def confirm(
    mrn: str,
    channel: Annotated[
        Literal["red", "yellow", "blue", "green"], typer.Option(help="The channel the officer settles on.")
    ],
    json_output: JsonOpt = False,
) -> None:
    """Confirm (or change) a recommended channel: red is a recommendation until an officer confirms it."""
    settings = load_settings()
    officer = f"cli:{getpass.getuser()}"
    with _sessions(settings) as factory, db.transaction(factory) as session:
        assessment = RiskService(settings).confirm(session, mrn, officer=officer, channel=channel)
    if json_output:
        print_json(assessment.to_json())
    else:
        console.print(f"{mrn}: recommended {assessment.channel}, confirmed {assessment.confirmed_channel}")


@risk_app.command()
@guarded
def report(json_output: JsonOpt = False) -> None:
    """Control and hit rates per office and channel, so that drift and bias show."""
    settings = load_settings()
    with _sessions(settings) as factory, factory() as session:
        rows = RiskService(settings).report(session)
    if json_output:
        print_json({"rows": [r.to_json() for r in rows]})
        return
    table = Table(
        "office", "channel", "declarations", "share", "random", "outcomes", "violations", "hit rate", "random hit rate"
    )
    for r in rows:
        table.add_row(
            r.office,
            r.channel,
            str(r.declarations),
            f"{r.share_of_office:.1%}",
            str(r.random),
            str(r.outcomes),
            str(r.violations),
            "-" if r.hit_rate is None else f"{r.hit_rate:.1%}",
            "-" if r.random_hit_rate is None else f"{r.random_hit_rate:.1%}",
        )
    console.print(table)


@risk_app.command()
@guarded
def models(json_output: JsonOpt = False) -> None:
    """The model registry: versions, training data hash, metrics, which one is in use."""
    settings = load_settings()
    with _sessions(settings) as factory, factory() as session:
        infos = RiskService(settings).models(session)
    if json_output:
        print_json({"models": [i.to_json() for i in infos]})
        return
    table = Table("version", "current", "created", "lines", "AUC", "precision@5%", "data hash")
    for i in infos:
        table.add_row(
            i.name,
            "*" if i.is_current else "",
            i.created_at.isoformat(timespec="seconds"),
            str(i.history_lines),
            f"{i.metrics['auc']:.3f}",
            f"{i.metrics['at']['0.05']['precision']:.3f}",
            i.data_hash[:16],
        )
    console.print(table)


@risk_app.command()
@guarded
def show(mrn: str, json_output: JsonOpt = False) -> None:
    """The recorded risk decision of a declaration, with its reasons."""
    settings = load_settings()
    with _sessions(settings) as factory, factory() as session:
        assessment = RiskService(settings).assessment(session, mrn)
    data = assessment.to_json()
    if json_output:
        print_json(data)
        return
    console.print(
        f"{mrn}: channel [bold]{assessment.channel}[/bold] ({assessment.basis}), score {assessment.score}, "
        f"model {data['model']}"
    )
    for c in data["reasons"].get("contributions", []):
        console.print(f"  {c['feature']} = {c['value']}: +{c['contribution']}")
    for h in data["reasons"].get("rule_hits", []):
        console.print(f"  rule {h['rule']} (item {h['item']}): {h['message']}")
