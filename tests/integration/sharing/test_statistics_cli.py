"""`clearguard sharing statistics` as an operator runs it, on both databases: declarations imported
through the CLI, a release written and checked, bad input refused naming the option with nothing
written, and no release when there is nothing to release or k cannot be met.

The command is mounted here as the CLI root will mount it (`sharing_app.add_typer(statistics_app)`)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import typer
from sqlalchemy import Engine
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.declarations import Actor
from clearguard.declarations.samples import generate
from clearguard.sharing.anonymity_check import verify_csv
from clearguard.sharing.statistics_command import statistics_app
from tests.helpers import operator_cli

runner = CliRunner()
sharing = typer.Typer()
sharing.add_typer(statistics_app)
root = typer.Typer()
root.add_typer(sharing, name="sharing")
DECLARATIONS = generate(120, seed=15)


@pytest.fixture
def cli(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = operator_cli(empty_database[0], tmp_path, monkeypatch, quiet_risk=True)
    monkeypatch.setenv("CLEARGUARD_OPERATOR", "dora")
    source = folder / "declarations.jsonl"
    source.write_bytes(b"".join(orjson.dumps(doc) + b"\n" for doc in DECLARATIONS))
    imported = runner.invoke(app, ["declarations", "import", str(source), "--json"])
    assert imported.exit_code == 0, imported.output
    return folder


def stats(*args: str) -> tuple[int, str]:
    result = runner.invoke(root, ["sharing", "statistics", "--agreement", "AGR-7", *args])
    return result.exit_code, result.output


def test_a_release_is_written_checked_and_described(cli: Path) -> None:
    code, out = stats("--k", "5", "--l", "2", "--sensitive", "transport_mode", "--out", "release.csv", "--json")
    assert code == 0, out
    report = json.loads(out)
    data = (cli / "release.csv").read_bytes()
    assert json.loads((cli / "release.json").read_text()) == report
    assert report["csv_sha256"] == hashlib.sha256(data).hexdigest()
    assert report["agreement"] == "AGR-7" and report["k"] == 5 and report["l"] == 2
    assert report["sensitive"] == "transport_mode"
    lines = sum(len(doc["items"]) for doc in DECLARATIONS)
    rows = report["rows"]
    assert rows["in"] == lines and rows["released"] + rows["suppressed"] + rows["without_sensitive_value"] == lines
    assert rows["suppressed"] <= rows["suppression_limit"] == int(0.05 * (lines - rows["without_sensitive_value"]))
    qi = list(report["quasi_identifiers"])
    assert qi == ["hs_code", "date", "statistical_value", "net_mass", "office", "origin_country", "dispatch_country"]
    assert report["quasi_identifiers"]["statistical_value"]["level"] >= 1
    assert report["categories"]["drawn_on"] == ["code", "confidential", "trade"]
    assert report["categories"]["banded_only"] == ["statistical_value"]
    assert report["categories"]["by_column"]["date"] == "header"
    # The verifier's figures are those of the file that was written, recomputed here.
    again = verify_csv(data, quasi_identifiers=qi, sensitive="transport_mode", k=5, l=2, banded=["statistical_value"])
    assert again.ok and again.to_dict() == report["verifier"]
    assert report["verifier"]["k"] >= 5 and report["verifier"]["l"] >= 2
    # Nothing of a party is in the release.
    text = data.decode()
    for doc in DECLARATIONS:
        assert doc["declarant"]["eori"] not in text and doc["declarant"]["name"] not in text
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == rows["released"]
    prices = {item.get("item_price") or item.get("intrinsic_value") for doc in DECLARATIONS for item in doc["items"]}
    assert not prices & {row["statistical_value"] for row in table}
    # Without --json: a summary; without --out: no file.
    code, out = stats("--k", "5", "--l", "2", "--sensitive", "currency")
    assert code == 0 and "released" in out and "statistical_value:" in out, out
    assert sorted(p.name for p in cli.iterdir() if p.suffix in {".csv", ".json"}) == ["release.csv", "release.json"]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--k", "1", "--sensitive", "procedure"], "--k"),
        (["--k", "5", "--l", "0", "--sensitive", "procedure"], "--l"),
        (["--k", "3", "--l", "4", "--sensitive", "procedure"], "--l"),
        (["--sensitive", "colour"], "--sensitive"),
        (["--sensitive", "statistical_value"], "--sensitive"),
        (["--sensitive", "procedure", "--since", "2026-13-01"], "--since"),
        (["--sensitive", "procedure", "--since", "2026-02-01", "--until", "2026-01-01"], "--since"),
        (["--sensitive", "procedure", "--out", "no/such/dir/r.csv"], "--out"),
    ],
)
def test_bad_input_names_the_option_and_writes_nothing(cli: Path, args: list[str], option: str) -> None:
    code, out = stats(*args, "--out", "r.csv") if "--out" not in args else stats(*args)
    assert code == 2, out
    assert out.startswith(f"error: {option}:") and len(out.strip().splitlines()) == 1, out
    assert not (cli / "r.csv").exists() and not (cli / "r.json").exists()


def test_no_release_without_declarations_or_when_k_cannot_be_met(cli: Path) -> None:
    code, out = stats("--sensitive", "procedure", "--since", "2020-01-01", "--until", "2020-02-01", "--out", "r.csv")
    assert code == 1 and "no declarations in force" in out, out
    code, out = stats("--k", "5000", "--l", "2", "--sensitive", "procedure", "--out", "r.csv")
    assert code == 1 and "k:" in out and "fewer than k = 5000" in out, out
    assert not (cli / "r.csv").exists() and not (cli / "r.json").exists()


def test_the_agreement_hook_is_asked_first(cli: Path) -> None:
    """The sharing service's agreement check runs before any declaration is read; its refusal leaves
    no file and no audit event of a read."""
    from clearguard.audit.service import AuditQuery
    from clearguard.cli_support import open_services
    from clearguard.sharing.errors import AgreementError
    from clearguard.sharing.statistics_command import statistics_release

    asked: list[str] = []

    def refuse(agreement: str) -> None:
        asked.append(agreement)
        raise AgreementError(f"agreement: {agreement} is not in force", field="agreement")

    since, until = datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=1)
    with open_services() as services:
        with pytest.raises(AgreementError):
            statistics_release(
                services.declarations, agreement="AGR-9", k=5, l=2, sensitive="currency", since=since, until=until,
                out=cli / "r.csv", agreement_check=refuse, actor=Actor("dora", "dpo", "cli"),
            )  # fmt: skip
        release = statistics_release(
            services.declarations, agreement="AGR-8", k=5, l=2, sensitive="currency", since=since, until=until,
            agreement_check=asked.append, actor=Actor("dora", "dpo", "cli"),
        )  # fmt: skip
        with services.session_factory() as session:
            events = services.audit.query(session, AuditQuery(action="declaration.statistics"))
    assert asked == ["AGR-9", "AGR-8"] and release.verdict.ok
    assert not (cli / "r.csv").exists() and not (cli / "r.json").exists()
    assert len(events) == 1 and events[0].actor == "dora"
