"""Retention as an operator runs it, on SQLite and PostgreSQL: `clearguard retention ...` walks lodged
declarations through their periods with --as-of (CLEARGUARD_ENV=test), holds keep what they cover on
every erasure path, and after disposal nothing of the disposed records can be found or read: not in the
database's bytes (the file and its WAL, or a pg_dump), not under var/, not in the published tiles, not
after restoring a backup taken before the disposal. The ledger still verifies and names the disposed
entries as disposed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from clearguard.cli import app
from tests.helpers import example, import_summary, operator_cli
from tests.integration.cli.test_shred_leaves_nothing import database_bytes, found_in, var_bytes
from tests.integration.crypto.test_crypto_at_rest import protected_strings

runner = CliRunner()


@pytest.fixture
def cli_env(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return operator_cli(empty_database[0], tmp_path, monkeypatch, env="test")


def cli(*args: str, code: int = 0) -> Any:
    """Standard output (parsed with --json) on success, everything printed otherwise."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, f"{args}: {result.output}"
    if code:
        return result.output
    return json.loads(result.stdout) if "--json" in args else result.stdout


def lodge(folder: Path) -> tuple[dict[str, Any], dict[str, Any], str, str]:
    h1, h7 = example("h1-import.json"), example("h7-low-value.json")
    (folder / "batch.jsonl").write_text(json.dumps(h1) + "\n" + json.dumps(h7) + "\n")
    imported = runner.invoke(app, ["declarations", "import", str(folder / "batch.jsonl"), "--json"])
    assert imported.exit_code == 0 and import_summary(imported.stdout)["created"] == 2, imported.output
    gb = cli("declarations", "list", "--json", "--party", "GB123456789000")["items"][0]["mrn"]
    nl = cli("declarations", "list", "--json", "--party", "NL812345678")["items"][0]["mrn"]
    return h1, h7, gb, nl


def values_of(doc: dict[str, Any]) -> set[bytes]:
    """Every confidential and personal value, and the clear item descriptions: a disposed record
    keeps none of them."""
    found = {v.encode() for v in protected_strings(doc)}
    found |= {item["description"].encode() for item in doc["items"] if len(item["description"]) >= 8}
    return found


def test_policies_are_listed(cli_env: Path) -> None:
    listed = cli("retention", "policies", "--json")
    by_id = {p["id"]: p for p in listed["policies"]}
    assert by_id["EU-UCC-ART51"]["period"] == "P3Y" and by_id["EU-UCC-ART51"]["start"] == "end_of_year_of_acceptance"
    assert by_id["UK-CEMA-4Y"]["period"] == "P4Y"
    assert by_id["US-19CFR163.4"]["period"] == "P5Y" and by_id["US-19CFR163.4"]["start"] == "entry"
    assert by_id["BIOMETRIC-30D"]["period"] == "P30D"
    assert "GB" in listed["jurisdictions"]["UK"] and "DE" in listed["jurisdictions"]["EU"]


@pytest.mark.asvs("V14.2.7")
def test_records_walk_through_their_periods_and_leave_nothing(
    cli_env: Path, empty_database: tuple[str, Engine]
) -> None:
    url, engine = empty_database
    h1, h7, gb, nl = lodge(cli_env)
    shown = cli("declarations", "show", nl, "--json")
    year = int(shown["created_at"][:4])
    # EU: 3 years from the end of the year of acceptance; UK: 4 years.
    assert shown["retention"]["policy"] == "EU-UCC-ART51"
    assert shown["retention"]["disposal_due"] == f"{year + 4}-01-01"
    assert cli("declarations", "show", gb, "--json")["retention"]["disposal_due"] == f"{year + 5}-01-01"
    cli("ledger", "integrate")
    cli("backup", "create", str(cli_env / "before.cgbak"))

    early = cli("retention", "run", "--dry-run", "--json", "--as-of", f"{year + 3}-12-31")
    assert early["disposed"]["declarations"] == 0 and early["certificate"] is None

    eu = cli("retention", "run", "--yes", "--json", "--as-of", f"{year + 4}-01-01")
    assert eu["disposed"]["declarations"] == 1 and eu["by_policy"] == {"EU-UCC-ART51": 1}
    assert eu["disposed"]["parties_shredded"] == 2  # the NL declarant and the consignee, a natural person
    assert eu["certificate"]["ledger_index"] >= 0
    out = cli("declarations", "show", nl, code=1)
    assert "disposed of" in out and "retention run" in out
    assert cli("declarations", "show", gb, "--json")["document"]["importer"]["name"] == h1["importer"]["name"]
    assert cli("retention", "run", "--yes", "--json", "--as-of", f"{year + 4}-01-01")["disposed"]["declarations"] == 0

    uk = cli("retention", "run", "--yes", "--json", "--as-of", f"{year + 5}-01-01")
    assert uk["disposed"]["declarations"] == 1 and uk["by_policy"] == {"UK-CEMA-4Y": 1}
    cli("declarations", "show", gb, code=1)
    assert cli("declarations", "list", "--json")["items"] == []

    needles = values_of(h1) | values_of(h7)
    raw = database_bytes(url, engine)
    assert not found_in(needles, raw), "values of disposed declarations remain in the database"
    cli("ledger", "integrate")
    tiles = cli_env / "tiles"
    cli("ledger", "publish", str(tiles))
    assert not found_in(needles, var_bytes(cli_env / "var", url.removeprefix("sqlite:///")))
    assert not found_in(needles, b"".join(p.read_bytes() for p in tiles.rglob("*") if p.is_file()))
    verified = cli("ledger", "verify")
    assert verified.startswith("ok:") and "disposed of by retention run" in verified, verified

    # A backup from before both runs, restored: the runs' register disposes of both again.
    restored = cli("backup", "restore", str(cli_env / "before.cgbak"), "--yes", "--accept-loss")
    assert "2 declarations disposed of since the backup was taken were disposed of again" in restored, restored
    for mrn in (gb, nl):
        assert "disposed of" in cli("declarations", "show", mrn, code=1)
    assert not found_in(needles, database_bytes(url, engine))
    cli("ledger", "integrate")
    assert cli("ledger", "verify").startswith("ok:")


def test_a_hold_keeps_records_on_every_path(cli_env: Path) -> None:
    h1, h7, gb, nl = lodge(cli_env)
    year = int(cli("declarations", "show", gb, "--json")["created_at"][:4])
    # The importer's EORI appears in the GB declaration only as a co-party: the hold still covers it.
    hold = cli(
        "retention", "hold", "add", "--party", h1["importer"]["eori"], "--reason", "appeal against the tariff",
        "--owner", "DPO office", "--case", "APPEAL-2026-17", "--review", f"{year + 1}-06-30", "--json",
    )  # fmt: skip
    assert hold["scope"] == "party" and hold["case"] == "APPEAL-2026-17"
    cli("retention", "hold", "add", "--mrn", nl, "--reason", "post-clearance audit", "--owner", "audit unit")
    # A natural person (the H7's consignee) held by name, postcode and country: no erasure of theirs.
    jane = h7["consignee"]
    cli(
        "retention", "hold", "add", "--person", jane["name"], "--postcode", jane["address"]["postcode"],
        "--country", jane["address"]["country"], "--reason", "complaint under review", "--owner", "DPO office",
    )  # fmt: skip
    assert len(cli("retention", "hold", "list", "--json")) == 3
    refused = cli(
        "keys", "shred", "--person", jane["name"], "--postcode", jane["address"]["postcode"],
        "--country", jane["address"]["country"], "--yes", code=1,
    )  # fmt: skip
    assert "legal hold" in refused

    late = cli("retention", "run", "--yes", "--json", "--as-of", f"{year + 9}-01-01")
    assert late["disposed"]["declarations"] == 0 and late["held"] == 2
    assert cli("declarations", "show", gb, "--json")["document"]["declarant"]["name"] == h1["declarant"]["name"]
    # keys shred is an erasure path too: refused while the hold stands, and nothing is erased.
    refused = cli("keys", "shred", "--party", h1["declarant"]["eori"], "--yes", code=1)
    assert "legal hold" in refused
    assert cli("declarations", "show", gb, "--json")["document"]["declarant"]["name"] == h1["declarant"]["name"]

    cli("retention", "hold", "release", str(hold["id"]), "--reason", "appeal decided")
    assert [h["scope"] for h in cli("retention", "hold", "list", "--json")] == ["mrn", "party"]
    after = cli("retention", "run", "--yes", "--json", "--as-of", f"{year + 9}-01-01")
    assert after["disposed"]["declarations"] == 1 and after["held"] == 1
    cli("declarations", "show", gb, code=1)
    assert cli("declarations", "show", nl, "--json")["mrn"] == nl


def test_bad_input_names_the_field_and_changes_nothing(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _h1, _h7, gb, _nl = lodge(cli_env)
    out = cli("retention", "hold", "add", "--party", "GB999999999999", "--reason", "x", "--owner", "y", code=2)
    assert "party:" in out
    out = cli("retention", "hold", "add", "--mrn", gb, "--reason", "x", "--owner", "y", "--review", "31/12/27", code=2)
    assert "review:" in out and "YYYY-MM-DD" in out
    cli("retention", "hold", "add", "--case", "APPEAL-1", "--reason", "x", "--owner", "y", code=2)
    cli("retention", "hold", "add", "--mrn", gb, "--reason", " ", "--owner", "y", code=2)
    assert cli("retention", "hold", "list", "--json") == []
    assert "as-of:" in cli("retention", "run", "--yes", "--as-of", "2040-13-01", code=2)
    assert "yes:" in cli("retention", "run", code=2)  # no terminal: irreversible work needs --yes

    policy = (Path(__file__).parents[3] / "src/clearguard/retention/policies/default.yaml").read_text()
    for wrong, field in (
        (policy.replace("jurisdiction: UK\n", "jurisdiction: XX\n", 1), "jurisdiction"),
        (policy.replace("categories: [code, trade, confidential, personal]", "categories: [code, secret]", 1),
         "categories"),
        (policy.replace("start: entry\n", "start: arrival\n", 1), "start"),
        (policy.replace("period: P30D", "period: 30 days", 1), "period"),
        (policy.replace("period: P30D", "period: indefinite", 1), "period"),
    ):  # fmt: skip
        assert wrong != policy
        (cli_env / "policy.yaml").write_text(wrong)
        monkeypatch.setenv("CLEARGUARD_RETENTION_POLICY_FILE", str(cli_env / "policy.yaml"))
        out = cli("retention", "policies", code=2)
        assert field in out and out.count("\n") <= 2, out
        cli("retention", "run", "--yes", code=2)
    monkeypatch.delenv("CLEARGUARD_RETENTION_POLICY_FILE")
    assert cli("declarations", "show", gb, "--json")["mrn"] == gb

    monkeypatch.setenv("CLEARGUARD_ENV", "prod")
    # --as-of is refused outside dev and test, before anything is read (settings refuse prod placeholders
    # themselves, so only the exit code and the field are checked).
    out = cli("retention", "run", "--yes", "--as-of", "2040-01-01", code=2)
    assert "as-of" in out or "configuration" in out


def test_audit_events_go_after_their_own_period_but_held_ones_stay(
    cli_env: Path, empty_database: tuple[str, Engine]
) -> None:
    from sqlalchemy import text

    _url, engine = empty_database
    _h1, _h7, gb, nl = lodge(cli_env)
    cli("declarations", "show", gb, "--json")  # a read: an audit event naming who read it
    year = int(cli("declarations", "show", nl, "--json")["created_at"][:4])
    cli("retention", "hold", "add", "--mrn", nl, "--reason", "court case", "--owner", "legal")

    # Declarations are due after 3 or 4 years, the audit trail after 7 (AUDIT-7Y).
    first = cli("retention", "run", "--yes", "--json", "--as-of", f"{year + 6}-01-01")
    assert first["disposed"]["declarations"] == 1 and first["disposed"]["audit_events"] == 0
    with engine.connect() as conn:
        activity = conn.execute(text("SELECT count(*) FROM detection_activity")).scalar_one()
    assert activity > 0  # every audited action is also an activity event
    later = cli("retention", "run", "--yes", "--json", "--as-of", f"{year + 8}-01-02")
    assert later["disposed"]["audit_events"] > 0 and later["disposed"]["activity_events"] >= activity
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM detection_activity WHERE at < :cut"),
                            {"cut": f"{year + 1}-01-01"}).scalar_one() == 0  # fmt: skip
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT record_id, actor, source, disposal_run FROM audit_events")).all()
    disposed = [r for r in rows if r.disposal_run is not None]
    assert disposed and all(r.actor == "[disposed]" and r.source is None for r in disposed)
    # Events about the held declaration keep who did what.
    about_held = [r for r in rows if r.record_id == nl]
    assert about_held and all(r.disposal_run is None and r.actor.startswith("cli:") for r in about_held)
    cli("ledger", "integrate")
    assert cli("ledger", "verify").startswith("ok:")
    # Marking an event disposed by a run whose cutoff it is not past, to hide an edit, is caught.
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_events SET disposal_run = :run WHERE record_id = :mrn"), {"run": first["run"], "mrn": nl}
        )
    assert "after its cutoff" in cli("ledger", "verify", code=1)
