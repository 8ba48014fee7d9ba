"""Item 5 (and 6): after `keys shred`, nothing of the party's confidential or personal values remains.

As an operator: `init`, `declarations import` of a trader's H1 and a low-value H7 to a natural person,
an officer's control outcome (which adds the H1's items to the risk history), then `keys shred --party`
of the trader and `--person` of the consignee. Then a byte search, with the at-rest test's search, of
the SQLite file and its WAL (or a pg_dump of the test schema) and of every file under var/: none of the
shredded parties' names, addresses, contacts, documents or prices is there, in the declaration's form
or as the risk engine derives it (the item price in national currency, as JSON text or as a stored
double). Before the fix the risk records kept `"item_price": 11850.0` in clear, and the control outcome's
history lines kept it after the shred."""

from __future__ import annotations

import json
import re
import struct
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from clearguard.backup.snapshot import _libpq
from clearguard.cli import app
from clearguard.db import is_sqlite
from tests.helpers import example, import_summary, operator_cli
from tests.integration.crypto.test_crypto_at_rest import protected_strings

runner = CliRunner()


@pytest.fixture
def cli_env(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return operator_cli(empty_database[0], tmp_path, monkeypatch)


def run(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code in (0, 1), result.output  # 1: `risk outcome` on an already recorded one
    return json.loads(result.stdout) if "--json" in args else result.output


def national_prices(doc: dict[str, Any]) -> list[float]:
    """Item prices as the risk engine stores them: in national currency (x the invoice's rate)."""
    rate = Decimal(doc.get("invoice", {}).get("exchange_rate", "1"))
    return [float(Decimal(str(i.get("item_price", i.get("intrinsic_value", "0"))))) * float(rate) for i in doc["items"]]


def database_bytes(url: str, engine: Engine) -> bytes:
    """The SQLite file and its WAL as they are (no checkpoint first: the WAL's old pages count), or a
    plain pg_dump of the test schema."""
    if is_sqlite(url):
        engine.dispose()
        path = Path(url.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    uri, env, schema = _libpq(url)
    command = ["pg_dump", "--format=plain", f"--dbname={uri}", f"--schema={schema}"]
    return subprocess.run(command, env=env, check=True, capture_output=True).stdout


def var_bytes(var: Path, database: str) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(var.rglob("*")) if p.is_file() and not str(p).startswith(database))


def found_in(needles: set[bytes], raw: bytes) -> list[bytes]:
    # Bounded by non-digits: a price "44.22" is not leaked by a clear gross mass "44.220".
    return sorted(n for n in needles if re.search(rb"(?<![0-9.])" + re.escape(n) + rb"(?![0-9])", raw))


@pytest.mark.asvs("V14.2.7")
def test_nothing_of_a_shredded_party_remains(cli_env: Path, empty_database: tuple[str, Engine]) -> None:
    url, engine = empty_database
    h1, h7 = example("h1-import.json"), example("h7-low-value.json")
    (cli_env / "batch.jsonl").write_text(json.dumps(h1) + "\n" + json.dumps(h7) + "\n")
    result = runner.invoke(app, ["declarations", "import", str(cli_env / "batch.jsonl"), "--json"])
    imported = import_summary(result.stdout)
    assert imported["created"] == 2, imported
    mrn_h1 = run("declarations", "list", "--json", "--party", "GB123456789000")["items"][0]["mrn"]
    outcome = run("risk", "outcome", mrn_h1, "--violation", "--json")
    assert outcome["history_lines_added"] == 2  # the sealed records opened for training

    trader_values = protected_strings(h1)
    prices = national_prices(h1)
    assert 11850.0 in prices
    jane = h7["consignee"]
    person_values = {jane["name"], jane["address"]["street"], jane["contact"]["email"], jane["contact"]["phone"]}
    text = {v.encode() for v in trader_values | person_values}
    text |= {repr(p).encode() for p in prices} | {f"{p:.2f}".encode() for p in prices}
    doubles = {struct.pack(">d", p) for p in prices} | {struct.pack("<d", p) for p in prices}

    # The search reads real storage: before the shred it finds what is kept for the parties.
    before = database_bytes(url, engine)
    assert mrn_h1.encode() in before

    run("keys", "shred", "--party", "GB123456789000", "--yes")
    postcode = jane["address"]["postcode"]
    run("keys", "shred", "--person", jane["name"], "--postcode", postcode, "--country", "NL", "--yes")

    raw = database_bytes(url, engine)
    assert mrn_h1.encode() in raw  # the declarations stay; what the parties owned does not
    leaked = found_in(text, raw) + sorted(d for d in doubles if d in raw and is_sqlite(url))
    assert not leaked, f"{len(leaked)} values of shredded parties remain in the database, e.g. {leaked[:5]}"
    database = url.removeprefix("sqlite:///")
    files = var_bytes(cli_env / "var", database)
    assert not found_in(text, files), "values of shredded parties remain under var/"
    # Gone for every reader too, not only from the bytes.
    shown = run("declarations", "show", mrn_h1, "--json")
    assert shown["document"]["items"][0]["item_price"] == "[erased]"
    assert run("declarations", "list", "--json", "--name", jane["name"])["items"] == []
    # Erasure is not tampering: the ledger, audit trail and current state still verify after both shreds.
    assert runner.invoke(app, ["ledger", "integrate"]).exit_code == 0
    verified = runner.invoke(app, ["ledger", "verify"])
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.startswith("ok:") and "1 checkpoints" in verified.stdout, verified.output
