"""What every command shares: one-line errors with stable exit codes, JSON output, services."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from clearguard.config import Settings
from clearguard.errors import ClearGuardError

if TYPE_CHECKING:  # the root is imported when a command runs, so `--help` stays fast
    from clearguard.ledger.service import LedgerService
    from clearguard.ledger.witness_service import WitnessService
    from clearguard.wiring import Services

P = ParamSpec("P")
R = TypeVar("R")

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """Plain JSON on stdout (no rich markup), so scripts can pipe it."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def fail(message: str, code: int) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", markup=True, soft_wrap=True)
    return typer.Exit(code)


def guarded(func: Callable[P, R]) -> Callable[P, R]:
    """Turn ClearGuard errors into one line and an exit code; never show a stack trace to users."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ClearGuardError as exc:
            findings = exc.extra.get("findings")
            if findings and len(findings) > 1:
                for f in findings:
                    err_console.print(
                        f"  {f['severity']:<7} {f['rule_id']:<14} {f['pointer'] or '/'}: {f['message']}",
                        markup=False,
                        soft_wrap=True,
                    )
            raise fail(str(exc), exc.exit_code) from None
        except ValidationError as exc:  # settings or other models from configuration
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise fail(f"configuration: {loc}: {first['msg']}", 2) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("CLEARGUARD_DEBUG"):
                raise
            raise fail(f"internal error ({type(exc).__name__}); set CLEARGUARD_DEBUG=1 for details", 1) from None

    return wrapper


def load_settings() -> Settings:
    return Settings()


@contextmanager
def open_services() -> Iterator[Services]:
    from clearguard.wiring import build_services

    services = build_services(load_settings())
    try:
        yield services
    finally:
        services.close()


def open_ledger() -> LedgerService:
    """The ledger alone, from the composition root: for commands that need its keys, not the
    database or the other capabilities (`ledger key`, offline receipt checks)."""
    from clearguard.wiring import build_ledger

    return build_ledger(load_settings())


def open_witness() -> WitnessService:
    """This instance's witness, from the composition root."""
    from clearguard.wiring import build_witness

    return build_witness(load_settings())


@contextmanager
def progress_bar(label: str, *, enabled: bool = True) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on standard error, so that standard output holds only the result (JSON)."""
    if not enabled:
        yield None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
