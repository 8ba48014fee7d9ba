"""A statistical release: the generalised table as CSV bytes and its JSON report, checked by the
verifier before anything is handed out. Pure (no I/O): the command writes the files.

The report binds itself to the CSV by its SHA-256, says which data categories the release draws on
(for the agreement's allowed categories), what each quasi-identifier's level means, how many rows
went in, were released and were suppressed, the verifier's own figures and the information loss.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clearguard.sharing.anonymity import CONFIDENTIAL_BANDED, Anonymised
from clearguard.sharing.anonymity_check import Verdict, verify_csv

FORMAT = "clearguard-statistics/1"
# A cell a spreadsheet would run as a formula starts with one of these; none of the released values
# should, but a sensitive value comes from the data, so such a cell is quoted as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ReleaseRefused(ValueError):
    """The verifier found the table not fit to release; `verdict` says why."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__("; ".join(verdict.problems) or "the verifier refused the release")
        self.verdict = verdict


@dataclass(frozen=True)
class Release:
    csv: bytes
    report: dict[str, Any]
    verdict: Verdict

    @property
    def report_json(self) -> bytes:
        return (json.dumps(self.report, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(table: Anonymised) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_cell(row[c]) for c in table.columns])
    return buffer.getvalue().encode("utf-8")


def build_release(
    table: Anonymised,
    *,
    agreement: str,
    since: datetime,
    until: datetime,
    categories: dict[str, str | None],
    created_at: datetime,
) -> Release:
    """The CSV and report of a generalised table, after the verifier passes it; ReleaseRefused if not."""
    data = to_csv(table)
    verdict = verify_csv(
        data,
        quasi_identifiers=table.quasi_identifiers,
        sensitive=table.sensitive,
        k=table.k,
        l=table.l,
        banded=sorted(CONFIDENTIAL_BANDED & set(table.columns)),
    )
    if not verdict.ok:
        raise ReleaseRefused(verdict)
    used = {column: categories.get(column) for column in table.columns}
    report: dict[str, Any] = {
        "format": FORMAT,
        "agreement": agreement,
        "created_at": created_at.isoformat(),
        "period": {"since": since.isoformat(), "until": until.isoformat()},
        "k": table.k,
        "l": table.l,
        "l_diversity": "distinct",
        "sensitive": table.sensitive,
        "quasi_identifiers": {name: table.levels[name] for name in table.quasi_identifiers},
        "columns": list(table.columns),
        "categories": {
            "by_column": {c: (cat if cat is not None else "header") for c, cat in used.items()},
            "drawn_on": sorted({cat for cat in used.values() if cat is not None}),
            "banded_only": sorted(CONFIDENTIAL_BANDED & set(table.columns)),
        },
        "rows": {
            "in": table.rows_in,
            "without_sensitive_value": table.rows_without_sensitive,
            "released": len(table.rows),
            "suppressed": table.suppressed,
            "suppression_limit": table.max_suppressed,
        },
        "verifier": verdict.to_dict(),
        "information_loss": {
            "metric": "precision with suppression (0 = nothing generalised, 1 = everything suppressed)",
            "value": table.information_loss,
            "discernibility": table.discernibility,
        },
        "search": {
            "lattice_nodes": table.lattice_size,
            "nodes_evaluated": table.nodes_evaluated,
            "minimal_nodes": table.minimal_nodes,
        },
        "csv_sha256": hashlib.sha256(data).hexdigest(),
    }
    return Release(data, report, verdict)
