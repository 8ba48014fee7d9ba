"""Audit reports: JSON, CSV (cells that a spreadsheet would run as formulas are neutralised) and a
self-contained HTML page (everything escaped)."""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from datetime import datetime

from clearguard.audit.service import AuditEvent
from clearguard.errors import InputError

FORMATS = ("json", "csv", "html")
COLUMNS = (
    "at", "event_id", "actor", "role", "action", "record_type", "record_id", "party", "source",
    "justification", "outcome", "details", "ledger_index",
)  # fmt: skip


def _cell(value: object) -> str:
    text = _text(value)
    # CSV injection: a leading = + - @ (or tab / CR) makes spreadsheets evaluate the cell.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _text(value: object) -> str:
    if value is None:
        return ""
    return json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value)


def render(events: Sequence[AuditEvent], fmt: str, *, generated_at: datetime, since: datetime | None) -> str:
    if fmt == "json":
        body = {
            "generated_at": generated_at.isoformat(),
            "since": since.isoformat() if since else None,
            "count": len(events),
            "events": [e.to_dict() for e in events],
        }
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for e in events:
            d = e.to_dict()
            writer.writerow([_cell(d[c]) for c in COLUMNS])
        return out.getvalue()
    if fmt == "html":
        head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
        rows = []
        for e in events:
            d = e.to_dict()
            cells = "".join(f"<td>{html.escape(_text(d[c]))}</td>" for c in COLUMNS)
            rows.append(f"<tr>{cells}</tr>")
        title = f"ClearGuard audit report, {len(events)} events" + (f" since {since.isoformat()}" if since else "")
        return (
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title>"
            "<style>table{border-collapse:collapse;font:13px sans-serif}td,th{border:1px solid #999;"
            "padding:2px 6px;text-align:left;vertical-align:top}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>Generated {html.escape(generated_at.isoformat())}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>\n"
        )
    raise InputError(f"format: one of {', '.join(FORMATS)}", field="format")
