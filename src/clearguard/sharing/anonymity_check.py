"""The verifier: checks a released table before it leaves. Pure (no I/O).

Written apart from the generaliser (clearguard.sharing.anonymity) and importing nothing of it: it
reads the released CSV bytes alone, recomputes the equivalence classes from the quasi-identifier
columns, and checks k-anonymity (every class has at least k rows) and distinct l-diversity (every
class holds at least l distinct values of the sensitive attribute). It also refuses a table whose
header is not exactly the declared columns (an undeclared column would leave unchecked), a
confidential column holding anything but a band, `*` or `unknown`, and an empty table.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# A band as the release writes it: [start,end) or the top-coded [start,inf), decimals in plain form.
_NUMBER = r"-?\d+(?:\.\d+)?"
_BAND = re.compile(rf"\[{_NUMBER},(?:{_NUMBER}|inf)\)")
_NOT_DISCLOSING = frozenset({"*", "unknown"})


@dataclass(frozen=True)
class Verdict:
    """What the verifier found. `k` and `l` are the figures the table achieves (its smallest class,
    its least diverse class), whatever was asked."""

    ok: bool
    k: int
    l: int  # noqa: E741 (the l of l-diversity)
    rows: int
    classes: int
    smallest_class: dict[str, Any]
    least_diverse_class: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "k": self.k,
            "l": self.l,
            "rows": self.rows,
            "classes": self.classes,
            "smallest_class": self.smallest_class,
            "least_diverse_class": self.least_diverse_class,
            "problems": list(self.problems),
        }


def read_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of UTF-8 CSV bytes; a row of another width is a problem the caller reports."""
    text = data.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    return header, list(reader)


def verify_csv(
    data: bytes,
    *,
    quasi_identifiers: Sequence[str],
    sensitive: str,
    k: int,
    l: int,  # noqa: E741 (the l of l-diversity)
    banded: Sequence[str] = (),
) -> Verdict:
    """Checks released CSV bytes; `banded` columns may carry only bands, `*` or `unknown`."""
    try:
        header, rows = read_csv(data)
    except (UnicodeDecodeError, csv.Error) as exc:
        return _refused(f"csv: unreadable ({type(exc).__name__})")
    expected = [*quasi_identifiers, sensitive]
    if header != expected:
        return _refused(f"csv: header {header} is not the declared columns {expected}")
    problems: list[str] = []
    width = len(header)
    qi_positions = list(range(len(quasi_identifiers)))
    s_position = len(quasi_identifiers)
    band_positions = [header.index(b) for b in banded if b in header]
    sizes: dict[tuple[str, ...], int] = {}
    values: dict[tuple[str, ...], set[str]] = {}
    for number, row in enumerate(rows, start=2):
        if len(row) != width:
            problems.append(f"csv: line {number} has {len(row)} fields, not {width}")
            continue
        for position in band_positions:
            cell = row[position]
            if cell not in _NOT_DISCLOSING and not _BAND.fullmatch(cell):
                problems.append(f"{header[position]}: line {number} is not a band ({len(cell)} characters)")
        key = tuple(row[i] for i in qi_positions)
        sizes[key] = sizes.get(key, 0) + 1
        values.setdefault(key, set()).add(row[s_position])
    if not sizes:
        return _refused("csv: no rows to release", problems)
    smallest_key = min(sizes, key=lambda c: (sizes[c], c))
    least_key = min(values, key=lambda c: (len(values[c]), c))
    k_found = sizes[smallest_key]
    l_found = len(values[least_key])
    if k_found < k:
        problems.append(f"k: the smallest class has {k_found} row(s), fewer than k = {k}")
    if l_found < l:
        problems.append(f"l: the least diverse class has {l_found} distinct sensitive value(s), fewer than l = {l}")
    names = list(quasi_identifiers)
    return Verdict(
        ok=not problems,
        k=k_found,
        l=l_found,
        rows=sum(sizes.values()),
        classes=len(sizes),
        smallest_class={"size": k_found, "values": dict(zip(names, smallest_key, strict=True))},
        least_diverse_class={
            "distinct": l_found,
            "size": sizes[least_key],
            "values": dict(zip(names, least_key, strict=True)),
        },
        problems=problems,
    )


def _refused(reason: str, problems: Sequence[str] = ()) -> Verdict:
    return Verdict(False, 0, 0, 0, 0, {}, {}, [*problems, reason])
