"""`clearguard privacy ...` as an operator runs it, on both databases; bad input is one line naming
the field, exit 2, nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from clearguard.cli import app
from tests.helpers import EXAMPLES, operator_cli

runner = CliRunner()
JANE = ["--person", "Jane Example", "--postcode", "1012 AB", "--country", "NL"]


@pytest.fixture
def cli(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = operator_cli(empty_database[0], tmp_path, monkeypatch, quiet_risk=True)
    monkeypatch.setenv("CLEARGUARD_OPERATOR", "dora")
    lodged = runner.invoke(app, ["declarations", "lodge", str(EXAMPLES / "h7-low-value.json"), "--json"])
    assert lodged.exit_code == 0, lodged.output
    return folder


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_fields_and_records(cli: Path) -> None:
    code, out = run("privacy", "fields", "--json")
    assert code == 0, out
    found = json.loads(out)
    email = next(f for f in found["fields"] if f["type"] == "H7" and f["pointer"] == "/consignee/contact/email")
    assert email["category"] == "personal" and email["retention"]["EU"]["policy"] == "EU-UCC-ART51"
    assert {r["record"] for r in found["records"]} >= {"audit_event", "account", "risk_record", "traveller"}
    code, out = run("privacy", "fields")
    assert code == 0 and "personal" in out  # a table (wrapped to the terminal)
    code, out = run("privacy", "records", "--format", "md")
    assert code == 0 and "Art. 30(1)(g)" in out
    code, out = run("privacy", "records", "--format", "json")
    assert code == 0 and json.loads(out)["controller"]["dpo"]


def test_subject_access_in_every_format(cli: Path) -> None:
    code, out = run("privacy", "subject-access", *JANE)
    assert code == 0, out
    report = json.loads(out)
    assert report["declarations"][0]["versions"][0]["document"]["consignee"]["contact"]["email"] == "jane@example.org"
    assert report["retention"][0]["policy"] == "EU-UCC-ART51" and report["retention"][0]["held"] is False
    code, out = run("privacy", "subject-access", "--party", "NL812345678", "--format", "html", "--out", "r.html")
    assert code == 0, out
    assert "Jane Example" in (cli / "r.html").read_text()
    assert (cli / "r.html").stat().st_mode & 0o077 == 0
    code, out = run("privacy", "subject-access", *JANE, "--format", "pdf", "--out", "r.pdf")
    assert code == 0 and (cli / "r.pdf").read_bytes().startswith(b"%PDF-")


def test_requests(cli: Path) -> None:
    code, out = run("privacy", "request", "add", "--kind", "erasure", *JANE, "--details", "erase me", "--json")
    assert code == 0, out
    added = json.loads(out)
    code, out = run("privacy", "request", "list", "--json")
    assert code == 0 and json.loads(out)[0]["details"] == "erase me"
    code, out = run("privacy", "request", "list", "--overdue", "--json")
    assert code == 0 and json.loads(out) == []
    code, out = run("privacy", "request", "answer", str(added["id"]))
    assert code == 0 and "refused (" in out and "under policy EU-UCC-ART51" in out, out
    code, out = run("privacy", "request", "answer", str(added["id"]))
    assert code == 1 and "already answered" in out
    code, out = run("privacy", "request", "list")
    assert code == 0 and "refused" in out


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["privacy", "subject-access", "--party", "XX123"], "party"),
        (["privacy", "subject-access", "--person", "Jane Example"], "country"),
        (["privacy", "subject-access"], "party"),
        (["privacy", "subject-access", *JANE, "--format", "docx"], "format"),
        (["privacy", "records", "--format", "pdf"], "format"),
        (["privacy", "request", "add", "--kind", "forget", *JANE, "--details", "x"], "kind"),
        (["privacy", "request", "add", "--kind", "erasure", "--party", "GB1", "--details", "x"], "party"),
        (["privacy", "request", "add", "--kind", "erasure", "--person", "Jane", "--details", "x"], "country"),
    ],
)
def test_bad_input_is_exit_2_naming_the_field_and_changes_nothing(cli: Path, args: list[str], field: str) -> None:
    code, out = run(*args)
    assert code == 2, out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 and field in lines[0], out
    code, out = run("privacy", "request", "list", "--json")
    assert json.loads(out) == []


def test_minimisation_cli_list_and_logs(cli: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The CLI's list carries no party values; the operator's `show` is the full view; no log line
    carries a personal value."""
    import logging

    caplog.set_level(logging.DEBUG)
    code, out = run("declarations", "list", "--json")
    assert code == 0 and "Jane" not in out and "jane@example.org" not in out
    mrn = json.loads(out)["items"][0]["mrn"] if isinstance(json.loads(out), dict) else json.loads(out)[0]["mrn"]
    code, out = run("declarations", "show", mrn, "--json")
    assert code == 0 and "jane@example.org" in out
    run("privacy", "subject-access", *JANE)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Jane" not in logged and "jane@example.org" not in logged
