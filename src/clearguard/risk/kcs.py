"""Parsing the KCS synthetic import declarations (CSV) into risk records.

Pure: takes text lines, returns records and rejected rows; every bad row is kept with its line number
(header = line 1) and a one-line reason naming the column, never silently dropped.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from clearguard.risk.errors import RiskInputError
from clearguard.risk.record import RiskRecord, restore_hs6

COLUMNS = (
    "Declaration ID", "Date", "Office ID", "Process Type", "Import Type", "Import Use", "Payment Type",
    "Mode of Transport", "Declarant ID", "Importer ID", "Seller ID", "Courier ID", "HS6 Code",
    "Country of Departure", "Country of Origin", "Tax Rate", "Tax Type", "Country of Origin Indicator",
    "Net Mass", "Item Price", "Fraud", "Critical Fraud",
)  # fmt: skip
REQUIRED = (
    "Declaration ID", "Date", "Office ID", "Import Type", "Mode of Transport", "Declarant ID", "Importer ID",
    "Seller ID", "HS6 Code", "Country of Departure", "Country of Origin", "Tax Rate", "Tax Type", "Net Mass",
    "Item Price",
)  # fmt: skip
OUTCOME = ("Fraud", "Critical Fraud")
_COUNTRY = re.compile(r"[A-Z]{2}")
_CODE = re.compile(r"[A-Za-z0-9]{1,17}")


@dataclass(frozen=True, slots=True)
class RejectedRow:
    line: int
    reason: str


@dataclass(slots=True)
class ParseResult:
    records: list[RiskRecord] = field(default_factory=list)
    rejected: list[RejectedRow] = field(default_factory=list)


class _Bad(Exception):
    pass


def _number(row: dict[str, str], column: str) -> float:
    text = row[column].strip()
    try:
        value = float(text)
    except ValueError:
        raise _Bad(f"{column}: {text!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise _Bad(f"{column}: {text!r} must be a finite number >= 0")
    return value


def _choice(row: dict[str, str], column: str, allowed: tuple[str, ...]) -> int:
    text = row[column].strip()
    if text.endswith(".0"):
        text = text[:-2]
    if text not in allowed:
        raise _Bad(f"{column}: {text!r} must be one of {', '.join(allowed)}")
    return int(text)


def _code(row: dict[str, str], column: str, *, optional: bool = False) -> str:
    text = row[column].strip()
    if not text and optional:
        return ""
    if not _CODE.fullmatch(text):
        raise _Bad(f"{column}: {text!r} must be 1-17 letters or digits")
    return text


def _country(row: dict[str, str], column: str) -> str:
    text = row[column].strip().upper()
    if not _COUNTRY.fullmatch(text):
        raise _Bad(f"{column}: {row[column]!r} is not a two-letter country code")
    return text


def _record(row: dict[str, str], *, require_outcome: bool) -> RiskRecord:
    for column in REQUIRED:
        if row.get(column) is None:
            raise _Bad(f"{column}: missing (row has too few fields)")
    try:
        day = date.fromisoformat(row["Date"].strip())
    except ValueError:
        raise _Bad(f"Date: {row['Date']!r} is not an ISO date (YYYY-MM-DD)") from None
    hs6 = restore_hs6(row["HS6 Code"])
    if hs6 is None:
        raise _Bad(f"HS6 Code: {row['HS6 Code']!r} is not a 6-digit HS code (5 digits = lost leading zero)")
    fraud: int | None = None
    critical: int | None = None
    has_outcome = any((row.get(c) or "").strip() for c in OUTCOME)
    if require_outcome or has_outcome:
        for column in OUTCOME:
            if row.get(column) is None:
                raise _Bad(f"{column}: missing (row has too few fields)")
        fraud = _choice(row, "Fraud", ("0", "1"))
        # The paper says 0/1 but the data holds 2 for critical violations: keep all three levels.
        critical = _choice(row, "Critical Fraud", ("0", "1", "2"))
        if critical and not fraud:
            raise _Bad(f"Critical Fraud: {critical} without Fraud (a critical violation is a violation)")
    return RiskRecord(
        declaration_ref=_code(row, "Declaration ID"),
        item=1,
        date=day,
        office=_code(row, "Office ID"),
        procedure=_code(row, "Import Type"),
        hs6=hs6,
        origin_country=_country(row, "Country of Origin"),
        departure_country=_country(row, "Country of Departure"),
        transport_mode=_code(row, "Mode of Transport"),
        tax_rate=_number(row, "Tax Rate"),
        tax_type=_code(row, "Tax Type"),
        net_mass_kg=_number(row, "Net Mass"),
        item_price=_number(row, "Item Price"),
        declarant_id=_code(row, "Declarant ID"),
        importer_id=_code(row, "Importer ID"),
        seller_id=_code(row, "Seller ID", optional=True),
        fraud=fraud,
        critical=critical,
    )


def iter_kcs(lines: Iterable[str], *, require_outcome: bool = True) -> Iterator[RiskRecord | RejectedRow]:
    """Records and rejected rows in file order; raises RiskInputError when the header is unusable."""
    reader = csv.reader(iter(lines))
    try:
        header = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise RiskInputError("empty file: expected a KCS CSV header") from None
    except csv.Error as exc:
        raise RiskInputError(f"line 1: unreadable CSV header ({exc})") from None
    needed = REQUIRED + (OUTCOME if require_outcome else ())
    missing = [c for c in needed if c not in header]
    if missing:
        raise RiskInputError(f"line 1: not a KCS file, missing columns: {', '.join(missing)}", field=missing[0])
    seen: dict[str, int] = {}
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RejectedRow(reader.line_num, f"unreadable CSV ({exc})")
            continue
        line = reader.line_num
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield RejectedRow(line, f"{len(values)} fields where the header has {len(header)}")
            continue
        try:
            record = _record(dict(zip(header, values, strict=True)), require_outcome=require_outcome)
        except _Bad as exc:
            yield RejectedRow(line, str(exc))
            continue
        first = seen.setdefault(record.declaration_ref, line)
        if first != line:
            yield RejectedRow(line, f"Declaration ID: {record.declaration_ref} repeats line {first}")
            continue
        yield record


def parse_kcs(lines: Iterable[str], *, require_outcome: bool = True) -> ParseResult:
    result = ParseResult()
    for item in iter_kcs(lines, require_outcome=require_outcome):
        if isinstance(item, RejectedRow):
            result.rejected.append(item)
        else:
            result.records.append(item)
    return result
