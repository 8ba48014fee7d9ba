"""Audit report rendering and date parsing, without a database."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from clearguard.audit.commands import parse_when
from clearguard.audit.report import COLUMNS, render
from clearguard.audit.service import AuditEvent
from clearguard.errors import InputError

AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _event(actor: str, **extra: object) -> AuditEvent:
    fields: dict[str, object] = {
        "event_id": "e" * 32,
        "at": AT,
        "actor": actor,
        "role": "officer",
        "action": "declaration.read",
        "record_type": "declaration",
        "record_id": "26GB1",
        "party": "p1",
        "source": "10.0.0.1",
        "justification": None,
        "outcome": "ok",
        "details": {"fields": ["a", "b"]},
        "ledger_index": 4,
    }
    fields.update(extra)
    return AuditEvent(**fields)  # type: ignore[arg-type]


def test_json_report() -> None:
    data = json.loads(render([_event("ann")], "json", generated_at=AT, since=AT))
    assert data["count"] == 1 and data["since"] == AT.isoformat()
    assert data["events"][0]["details"] == {"fields": ["a", "b"]}


@pytest.mark.parametrize("evil", ["=1+1", "+cmd", "-2", "@SUM(A1)", "\t=x"])
def test_csv_neutralises_formulas(evil: str) -> None:
    text = render([_event(evil)], "csv", generated_at=AT, since=None)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(COLUMNS)
    assert rows[1][COLUMNS.index("actor")] == "'" + evil


def test_html_escapes_everything() -> None:
    page = render(
        [_event("<img src=x onerror=alert(1)>", justification='"><script>')], "html", generated_at=AT, since=None
    )
    assert "<img" not in page and "<script>" not in page
    assert "&lt;img" in page


def test_unknown_format() -> None:
    with pytest.raises(InputError):
        render([], "pdf", generated_at=AT, since=None)


def test_parse_when() -> None:
    assert parse_when("2026-05-01", "since") == datetime(2026, 5, 1, tzinfo=UTC)
    assert parse_when("2026-05-01T10:00:00+02:00", "since") == datetime(2026, 5, 1, 8, tzinfo=UTC)
    assert parse_when("2026-05-01T10:00:00", "since").tzinfo == UTC
    with pytest.raises(InputError):
        parse_when("last week", "since")
