"""`clearguard audit security`: the security self-audit on demand (mounted under the `audit` group
by clearguard.cli). Exit 0 when no check fails, 1 when one does, 2 on bad input."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from clearguard.cli_support import console, guarded, open_services
from clearguard.errors import InputError
from clearguard.posture import FORMATS, PostureService, Report, render
from clearguard.posture.advisories import write_private


@guarded
def security(
    fmt: Annotated[str, typer.Option("--format", help="text | json | html")] = "text",
    out: Annotated[
        Path | None, typer.Option("--out", help="write the report here (0600), not stdout")
    ] = None,
) -> None:
    """Check TLS, accounts, keys, the ledger, retention, alerts, training, files, dependencies and
    configuration; pass, warn or fail each, with its OWASP ASVS 5.0 requirement."""
    if fmt not in FORMATS:
        raise InputError(f"format: one of {', '.join(FORMATS)}, not {fmt!r}", field="format")
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        raise InputError(f"out: {out} must be a file in an existing directory", field="out")
    with open_services() as services:
        if services.posture is None:
            raise InputError("posture: this instance is wired without the self-audit", field="posture")
        report = _run(services.posture)
    text = render(report, fmt)
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_private(out, text)
        s = report.summary
        console.print(f"{s['pass']} pass, {s['warn']} warn, {s['fail']} fail: written to {out}", markup=False)
    if report.failed:
        raise typer.Exit(1)


def _run(service: PostureService) -> Report:
    return service.run()
