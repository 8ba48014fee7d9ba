"""The declarations commands through Typer's runner, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.declarations.samples import generate
from tests.helpers import EXAMPLES, example, import_summary, operator_cli

runner = CliRunner()


@pytest.fixture
def cli_env(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return operator_cli(empty_database[0], tmp_path, monkeypatch, quiet_risk=True)


def run(*args: str) -> Any:
    return runner.invoke(app, list(args))


def write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc))
    return path


def test_validate_exit_codes(cli_env: Path) -> None:
    assert run("declarations", "validate", str(EXAMPLES / "h1-import.json")).exit_code == 0
    bad = example("h1-import.json")
    bad["items"][0]["commodity_code"] = "12345"
    result = run("declarations", "validate", str(write(cli_env / "bad.json", bad)), "--json")
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    assert any(f["pointer"] == "/items/0/commodity_code" for f in findings)
    (cli_env / "broken.json").write_bytes(b'{"type": "H1", ')
    result = run("declarations", "validate", str(cli_env / "broken.json"))
    assert result.exit_code == 2
    assert "malformed JSON at line 1" in result.output and "Traceback" not in result.output
    (cli_env / "latin1.json").write_bytes('{"name": "Müller"}'.encode("latin-1"))
    assert run("declarations", "validate", str(cli_env / "latin1.json")).exit_code == 2
    assert run("declarations", "validate", str(cli_env / "missing.json")).exit_code == 2


def test_lodge_show_list(cli_env: Path) -> None:
    result = run("declarations", "lodge", str(EXAMPLES / "h1-import.json"), "--json")
    assert result.exit_code == 0, result.output
    lodged = json.loads(result.stdout)
    assert set(lodged) >= {"mrn", "status", "findings"} and lodged["status"] == "released"
    again = json.loads(run("declarations", "lodge", str(EXAMPLES / "h1-import.json"), "--json").stdout)
    assert again["mrn"] == lodged["mrn"] and again["created"] is False
    shown = json.loads(run("declarations", "show", lodged["mrn"], "--json").stdout)
    assert shown["document"]["declarant"]["name"] == "Acme Imports Ltd"
    assert [e["to"] for e in shown["events"]] == ["lodged", "accepted", "released"]
    listed = json.loads(run("declarations", "list", "--json", "--party", "GB123456789000").stdout)
    assert [i["mrn"] for i in listed["items"]] == [lodged["mrn"]]
    assert run("declarations", "show", "NOT-AN-MRN").exit_code == 2


def test_lodge_invalid_prints_findings_and_stores_nothing(cli_env: Path) -> None:
    bad = example("h7-low-value.json")
    bad["invoice"]["amount"] = "999.00"
    bad["items"][0]["intrinsic_value"] = "999.00"
    result = run("declarations", "lodge", str(write(cli_env / "bad.json", bad)), "--json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["mrn"] is None and payload["findings"]
    listed = json.loads(run("declarations", "list", "--json").stdout)
    assert listed["items"] == []


def test_import_is_idempotent_and_lists_every_bad_line(cli_env: Path) -> None:
    docs = generate(25, seed=11)
    lines = [json.dumps(d) for d in docs]
    unknown = example("h1-import.json")
    unknown["colour"] = "red"
    lines.insert(3, json.dumps(unknown))  # line 4
    lines.insert(6, "{not json")  # line 7
    lines.insert(8, "")  # blank line 9 is skipped, not an error
    path = cli_env / "batch.jsonl"
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"type": "H1", "lrn": "TRUNC')  # truncated last line
    result = run("declarations", "import", str(path), "--json")
    assert result.exit_code == 1
    summary = import_summary(result.stdout)
    assert summary["created"] == 25 and summary["rejected"] == 3
    assert [r["line"] for r in summary["rejected_lines"]] == [4, 7, len(lines) + 1]
    assert "colour" in summary["rejected_lines"][0]["findings"][0]["pointer"]
    second = import_summary(run("declarations", "import", str(path), "--json").stdout)
    assert second["created"] == 0 and second["already_lodged"] == 25
    assert len(json.loads(run("declarations", "list", "--json", "--limit", "500").stdout)["items"]) == 25


def test_non_utf8_line_in_import_is_listed(cli_env: Path) -> None:
    path = cli_env / "mixed.jsonl"
    path.write_bytes(json.dumps(example("h7-low-value.json")).encode() + b"\n\xff\xfe\n")
    summary = import_summary(run("declarations", "import", str(path), "--json").stdout)
    assert summary["created"] == 1
    assert summary["rejected_lines"][0]["line"] == 2
    assert "not UTF-8" in summary["rejected_lines"][0]["error"]


def test_decide_and_invalidate_from_the_cli(cli_env: Path) -> None:
    released = json.loads(run("declarations", "lodge", str(EXAMPLES / "h7-low-value.json"), "--json").stdout)
    assert released["status"] == "released"
    result = run("declarations", "decide", released["mrn"], "hold", "--reason", "check")
    assert result.exit_code == 1 and "cannot go from released to held" in result.output
    assert run("declarations", "invalidate", released["mrn"], "--reason", "dup").exit_code == 1
    controlled = example("h1-import.json")
    controlled["items"][0]["origin_country"] = "KP"  # a risk rule sends every DPRK origin to control
    lodged = json.loads(run("declarations", "lodge", str(write(cli_env / "kp.json", controlled)), "--json").stdout)
    assert lodged["status"] == "under_control"
    held = run("declarations", "decide", lodged["mrn"], "hold", "--reason", "laboratory sample", "--json")
    assert held.exit_code == 0 and json.loads(held.stdout)["status"] == "held"
    assert run("declarations", "invalidate", lodged["mrn"], "--reason", "lodged twice").exit_code == 0
    events = json.loads(run("declarations", "show", lodged["mrn"], "--json").stdout)["events"]
    assert [e["to"] for e in events][-2:] == ["held", "invalidated"]


def test_init_loads_demo_data_once(cli_env: Path) -> None:
    first = run("init")
    assert first.exit_code == 0, first.output
    assert first.output.count("MRN") == 2
    second = run("init")
    assert "already there" in second.output
    assert len(json.loads(run("declarations", "list", "--json").stdout)["items"]) == 2


def test_oversized_file_is_refused_without_reading_it(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARGUARD_MAX_REQUEST_BYTES", "1000")
    result = run("declarations", "lodge", str(EXAMPLES / "h1-import.json"))
    assert result.exit_code == 2
    assert "larger than the limit of 1000 bytes" in result.output
    assert json.loads(run("declarations", "list", "--json").stdout)["items"] == []


def test_configuration_errors_are_one_line(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARGUARD_DATABASE_URL", "mysql://nowhere")
    result = run("declarations", "list")
    assert result.exit_code == 2
    assert "database_url" in result.output and "Traceback" not in result.output


def test_shredding_a_person_then_a_trader_erases_exactly_their_fields(cli_env: Path) -> None:
    lodged = run("declarations", "lodge", str(EXAMPLES / "h7-low-value.json"), "--json")
    assert lodged.exit_code == 0, lodged.output
    mrn = json.loads(lodged.stdout)["mrn"]
    person = ["--person", "Jane Example", "--postcode", "1012 AB", "--country", "NL", "--yes"]
    shredded = run("keys", "shred", *person)
    assert shredded.exit_code == 0, shredded.output
    document = json.loads(run("declarations", "show", mrn, "--json").stdout)["document"]
    assert document["consignee"]["name"] == "[erased]"
    assert document["consignee"]["contact"] == "[erased]"
    assert document["consignee"]["address"]["country"] == "NL"  # code data is not the person's key's
    assert document["declarant"]["name"] == "ParcelCo Express B.V."
    assert document["invoice"]["amount"] == "42.90"
    assert run("keys", "shred", "--party", "NL812345678", "--yes").exit_code == 0
    document = json.loads(run("declarations", "show", mrn, "--json").stdout)["document"]
    assert document["declarant"]["name"] == "[erased]" and document["invoice"]["amount"] == "[erased]"
    assert document["items"][0]["description"] == "Wooden puzzle toy"
    again = run("keys", "shred", "--party", "eori:NL812345678", "--yes")
    assert again.exit_code == 0 and "nothing to shred" in again.output
    assert run("keys", "shred", "--yes").exit_code == 2


def test_amend_refuses_a_move_to_another_office(cli_env: Path) -> None:
    """Issue 13 item 3: `declarations amend` with another office_of_presentation is refused with a
    finding, and the declaration keeps its office, version and status."""
    controlled = example("h1-import.json")
    controlled["items"][0]["origin_country"] = "KP"  # a risk rule sends every DPRK origin to control
    lodged = json.loads(run("declarations", "lodge", str(write(cli_env / "kp.json", controlled)), "--json").stdout)
    assert lodged["status"] == "under_control"
    office = controlled["office_of_presentation"]
    moved = dict(controlled, office_of_presentation="GB000085" if office != "GB000085" else "GB000060")
    result = run("declarations", "amend", lodged["mrn"], str(write(cli_env / "moved.json", moved)), "--reason", "port")
    assert result.exit_code == 1
    assert "office_of_presentation: an amendment keeps the office of presentation" in result.output
    assert "Traceback" not in result.output
    shown = json.loads(run("declarations", "show", lodged["mrn"], "--json").stdout)
    assert (shown["office"], shown["version"], shown["status"]) == (office, 1, "under_control")
    kept = run("declarations", "amend", lodged["mrn"], str(write(cli_env / "kept.json", controlled)), "--reason", "x")
    assert kept.exit_code == 0, kept.output
    assert json.loads(run("declarations", "show", lodged["mrn"], "--json").stdout)["version"] == 2
