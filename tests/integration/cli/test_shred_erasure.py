"""Item 6: an erased party is no longer findable. `keys shred` clears, in the shred's transaction, the
party's blind indexes and key references (the declarations' ShredListener, wired by
clearguard.wiring), so `declarations list --name/--party` and the API's `?party=` find nothing.
Through the CLI (Typer's runner) and the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from clearguard.cli import app
from tests.helpers import EXAMPLES, operator_cli
from tests.integration.api.app_env import GB_TRADER, RealApp, make_real_app

runner = CliRunner()
JANE = ("--person", "Jane Example", "--postcode", "1012 AB", "--country", "NL")


@pytest.fixture
def cli_env(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return operator_cli(empty_database[0], tmp_path, monkeypatch)


def run(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.output


def listed(*filters: str) -> list[str]:
    return [item["mrn"] for item in run("declarations", "list", "--json", *filters)["items"]]


def test_shredded_person_and_trader_are_not_found_by_name_or_eori(cli_env: Path) -> None:
    h7 = run("declarations", "lodge", str(EXAMPLES / "h7-low-value.json"), "--json")["mrn"]
    h1 = run("declarations", "lodge", str(EXAMPLES / "h1-import.json"), "--json")["mrn"]
    assert listed("--name", "Jane Example") == [h7]
    assert listed("--name", "Acme Imports Ltd") == [h1]
    assert listed("--party", "GB123456789000") == [h1]

    run("keys", "shred", *JANE, "--yes")
    assert listed("--name", "Jane Example") == []
    shown = run("declarations", "show", h7, "--json")
    assert shown["document"]["consignee"]["name"] == "[erased]"
    assert shown["document"]["declarant"]["name"] == "ParcelCo Express B.V."  # another party's key
    assert listed("--name", "ParcelCo Express B.V.") == [h7]
    assert all(not ref.startswith("person:") for ref in shown.get("party_refs", {}).values())

    run("keys", "shred", "--party", "GB123456789000", "--yes")
    assert listed("--party", "GB123456789000") == []
    assert listed("--name", "Acme Imports Ltd") == []
    # The exporter's name was sealed under the shredded declarant's key: that declaration is not found
    # by it either.
    assert listed("--name", "Shenzhen Bright Electronics Co., Ltd.") == []
    assert sorted(listed()) == sorted([h1, h7])  # the declarations themselves stay


def test_shred_from_the_cli_hides_the_trader_from_a_running_api(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real: RealApp = make_real_app(engine, database_url)
    mrn = real.seed("gb")
    found = real.client.get(f"/api/v1/declarations?party={GB_TRADER}", headers=real.auth("officer"))
    assert [i["mrn"] for i in found.json()["items"]] == [mrn]
    before = real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth("officer")).json()
    assert before["document"]["declarant"]["name"] == "Acme Imports Ltd"  # the server's key cache is warm

    monkeypatch.setenv("CLEARGUARD_DATABASE_URL", database_url)
    run("keys", "shred", "--party", GB_TRADER, "--yes")

    found = real.client.get(f"/api/v1/declarations?party={GB_TRADER}", headers=real.auth("officer"))
    assert found.status_code == 200 and found.json()["items"] == []
    after = real.client.get(f"/api/v1/declarations/{mrn}", headers=real.auth("officer")).json()
    assert after["document"]["declarant"]["name"] == "[erased]"  # at once, not after the cache's 300 s
    # The trader itself no longer finds it through its own (erased) EORI.
    assert real.client.get("/api/v1/declarations", headers=real.auth("trader")).json()["items"] == []
