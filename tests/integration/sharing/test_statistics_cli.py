"""`clearguard sharing statistics` as an operator runs it, on both databases: declarations imported
through the CLI, a release written and checked, bad input refused naming the option with nothing
written, and no release when there is nothing to release or k cannot be met.

Each release is made under a real agreement: a registered partner, an agreement created through the
CLI and countersigned by the partner's key; one that is not in force, or does not allow the
categories the lines draw on, is refused before anything is read."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from joserfc.jwk import OKPKey
from sqlalchemy import Engine
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.config import Settings
from clearguard.declarations import Actor
from clearguard.declarations.samples import generate
from clearguard.sharing import agreement as agreements
from clearguard.sharing.anonymity_check import verify_csv
from clearguard.sharing.keys import load_sharing_keys
from tests.helpers import operator_cli
from tests.unit.sharing.partner_identity import partner_identity

runner = CliRunner()
root = app
DECLARATIONS = generate(120, seed=15)
PARTNER = partner_identity("nl.example")
AGREEMENT: dict[str, str] = {}


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (args, result.output)
    return result.output


def agreement(folder: Path, allow: str, *, accepted: bool = True) -> str:
    """An agreement with partner nl allowing `allow`, countersigned by nl's key when `accepted`."""
    if not (folder / "nl.jws").exists():
        (folder / "nl.jws").write_text(PARTNER.document)
        _ok(["sharing", "partner", "add", "nl", "--identity", str(folder / "nl.jws")])
    today = date.today()
    out = folder / f"agreement-{len(list(folder.glob('agreement-*.jws')))}.jws"
    created = json.loads(_ok([
        "sharing", "agreement", "create", "--partner", "nl", "--purpose", "trade statistics",
        "--legal-basis", "Regulation (EU) 2019/2152 and the GB-NL agreement", "--allow", allow,
        "--from", today.isoformat(), "--until", (today + timedelta(days=30)).isoformat(), "--out", str(out), "--json",
    ]))  # fmt: skip
    if accepted:
        document = out.read_text()
        ours = load_sharing_keys(Settings()).signing
        terms = agreements.parse(document, OKPKey.import_key(ours.as_dict(private=False)))
        counter = agreements.countersign(document, terms, PARTNER.signing, datetime.now(UTC))
        (folder / "counter.jws").write_text(counter)
        _ok(["sharing", "agreement", "countersign", str(folder / "counter.jws")])
    return str(created["id"])


@pytest.fixture
def cli(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = operator_cli(empty_database[0], tmp_path, monkeypatch, quiet_risk=True)
    monkeypatch.setenv("CLEARGUARD_OPERATOR", "dora")
    source = folder / "declarations.jsonl"
    source.write_bytes(b"".join(orjson.dumps(doc) + b"\n" for doc in DECLARATIONS))
    imported = runner.invoke(app, ["declarations", "import", str(source), "--json"])
    assert imported.exit_code == 0, imported.output
    AGREEMENT["id"] = agreement(folder, "code,trade,confidential")
    return folder


def stats(*args: str) -> tuple[int, str]:
    result = runner.invoke(root, ["sharing", "statistics", "--agreement", AGREEMENT["id"], *args])
    return result.exit_code, result.output


def test_a_release_is_written_checked_and_described(cli: Path) -> None:
    code, out = stats("--k", "5", "--l", "2", "--sensitive", "transport_mode", "--out", "release.csv", "--json")
    assert code == 0, out
    report = json.loads(out)
    data = (cli / "release.csv").read_bytes()
    assert json.loads((cli / "release.json").read_text()) == report
    assert report["csv_sha256"] == hashlib.sha256(data).hexdigest()
    assert report["agreement"] == AGREEMENT["id"] and report["k"] == 5 and report["l"] == 2
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


def test_a_release_needs_an_agreement_in_force_allowing_its_categories(cli: Path) -> None:
    """Not accepted by the partner, revoked, or without `confidential` (the value bands are drawn from
    it): refused naming the agreement, nothing written."""
    not_accepted = agreement(cli, "code,trade,confidential", accepted=False)
    without_values = agreement(cli, "code,trade")
    revoked = agreement(cli, "code,trade,confidential")
    _ok(["sharing", "agreement", "revoke", revoked, "--reason", "superseded"])
    for agreement_id, why in (
        (not_accepted, "not yet accepted"),
        (without_values, "confidential"),
        (revoked, "revoked"),
        ("agr-" + "0" * 32, "no such agreement"),
    ):
        result = runner.invoke(
            root, ["sharing", "statistics", "--agreement", agreement_id, "--sensitive", "procedure", "--out", "x.csv"]
        )
        assert result.exit_code == 1 and why in result.output, (agreement_id, result.output)
        assert not (cli / "x.csv").exists() and not (cli / "x.json").exists()
