"""`clearguard ledger verify` as an operator runs it, against rows edited by hand.

One database per kind is seeded through the CLI (init, import of generated declarations, officer
decisions, an amendment, two checkpoints); each case works on a copy of it (SQLite: a file copy;
PostgreSQL: the seeded schema, restored after each case), tampers with raw SQL as an operator with
database access would, and runs `ledger verify`: exit 1, and the first divergent entry is named.
Then the state checks of issue 13 item 2 and the public face of the log (item 7).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, make_url, text
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.declarations.samples import generate
from tests.conftest import POSTGRES_URL_VAR
from tests.helpers import example

runner = CliRunner()
# Every table a case edits (parents before children): PostgreSQL cases restore them afterwards.
TOUCHED = (
    "declarations",
    "declaration_versions",
    "declaration_parties",
    "declaration_events",
    "audit_events",
    "risk_assessments",
    "ledger_sequence",
    "ledger_entries",
    "ledger_tiles",
    "ledger_tree",
    "ledger_checkpoints",
)
LEDGER_TABLES = ("ledger_sequence", "ledger_entries", "ledger_tiles", "ledger_tree", "ledger_checkpoints")


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


def ok(*args: str) -> Any:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result


def controlled(lrn: str) -> dict[str, Any]:
    doc = example("h1-import.json")
    doc["lrn"] = lrn
    doc["items"][0]["origin_country"] = "KP"  # a risk rule sends every DPRK origin to control
    return doc


@dataclass
class Seeded:
    """A seeded database and what the cases need to know about it."""

    url: str
    var_dir: Path
    policy: Path
    checkpoint_a: int  # the size of the older checkpoint the log is rolled back to
    held: str  # MRN of a declaration an officer holds, then releases
    amended: str  # MRN of a controlled declaration with a second version
    holding: str  # MRN of a declaration an officer holds (and still does)
    green: str  # MRN of a declaration released at lodging


def _quiet_policy(tmp: Path) -> Path:
    # No random control budget: only rules send a declaration to control, so channels are fixed.
    policy = (resources.files("clearguard.risk") / "policy.yaml").read_text()
    quiet = policy.replace(
        "default: {red: 0.02, yellow: 0.05, blue: 0.03}", "default: {red: 0.0, yellow: 0.0, blue: 0.0}"
    )
    assert quiet != policy
    path = tmp / "policy.yaml"
    path.write_text(quiet)
    return path


def _use(monkeypatch: pytest.MonkeyPatch, url: str, var_dir: Path, policy: Path) -> None:
    monkeypatch.setenv("CLEARGUARD_DATABASE_URL", url)
    monkeypatch.setenv("CLEARGUARD_VAR_DIR", str(var_dir))
    monkeypatch.setenv("CLEARGUARD_RISK_POLICY_FILE", str(policy))


def _seed(tmp: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> Seeded:
    var_dir, policy = tmp / "var", _quiet_policy(tmp)
    _use(monkeypatch, url, var_dir, policy)
    ok("init", "--no-demo")
    first = tmp / "first.jsonl"
    docs = [*generate(4, seed=7), controlled("LRN-KP-HELD"), controlled("LRN-KP-AMEND"), controlled("LRN-KP-HOLD")]
    first.write_text("".join(json.dumps(d) + "\n" for d in docs))
    ok("declarations", "import", str(first))
    listed = json.loads(ok("declarations", "list", "--status", "under_control", "--json").stdout)["items"]
    by_lrn = {item["lrn"]: item["mrn"] for item in listed}
    held, amended, holding = by_lrn["LRN-KP-HELD"], by_lrn["LRN-KP-AMEND"], by_lrn["LRN-KP-HOLD"]
    ok("declarations", "decide", held, "hold", "--reason", "laboratory sample taken")
    ok("declarations", "decide", holding, "hold", "--reason", "documents missing")
    released = json.loads(ok("declarations", "list", "--status", "released", "--json").stdout)["items"]
    ok("ledger", "integrate")
    with _connect(url) as conn:
        checkpoint_a = int(conn.execute(text("SELECT max(size) FROM ledger_checkpoints")).scalar_one())
        for table in LEDGER_TABLES:
            conn.execute(text(f"CREATE TABLE snap_{table} AS SELECT * FROM {table}"))
    # After checkpoint A: one more lodging, the release of the held one, an amendment.
    second = tmp / "second.jsonl"
    second.write_text(json.dumps(generate(1, seed=11)[0]) + "\n")
    ok("declarations", "import", str(second))
    ok("declarations", "decide", held, "release", "--reason", "laboratory result conforms")
    amendment = controlled("LRN-KP-AMEND")
    amendment["items"][0]["description"] = "amended description of the goods"
    amendment["items"][0]["net_mass_kg"] = "170.000"  # a scored value: the amendment is assessed anew
    (tmp / "amend.json").write_text(json.dumps(amendment))
    ok("declarations", "amend", amended, str(tmp / "amend.json"), "--reason", "description corrected")
    ok("ledger", "integrate")
    verified = ok("ledger", "verify")
    assert verified.stdout.startswith("ok:"), verified.output
    with _connect(url) as conn:
        for table in TOUCHED:
            conn.execute(text(f"CREATE TABLE pristine_{table} AS SELECT * FROM {table}"))
    return Seeded(url, var_dir, policy, checkpoint_a, held, amended, holding, released[0]["mrn"])


def _connect(url: str) -> Any:
    engine = create_engine(url)

    class _Conn:
        def __enter__(self) -> Connection:
            self.conn = engine.connect()
            self.tx = self.conn.begin()
            return self.conn

        def __exit__(self, *exc: object) -> None:
            if exc[0] is None:
                self.tx.commit()
            self.conn.close()
            engine.dispose()

    return _Conn()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    monkeypatch = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp(f"seed-{request.param}")
    try:
        if request.param == "sqlite":
            yield _seed(tmp, f"sqlite:///{tmp / 'template.db'}", monkeypatch)
            return
        base = os.environ.get(POSTGRES_URL_VAR)
        if not base:
            pytest.skip(f"{POSTGRES_URL_VAR} not set")
        schema = f"h2tpl_{uuid.uuid4().hex[:10]}"
        _admin(base, f'CREATE SCHEMA "{schema}"')
        try:
            yield _seed(tmp, _in_schema(base, schema), monkeypatch)
        finally:
            _admin(base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        monkeypatch.undo()


def _admin(base: str, *statements: str) -> None:
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def _in_schema(base: str, schema: str) -> str:
    """The URL of one schema of the test database (as tests/conftest.py gives the CLI)."""
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


@pytest.fixture
def case_url(seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The seeded database for one case, with the CLI's environment pointing at it: a private copy
    on SQLite; on PostgreSQL the seeded schema itself, put back afterwards from a pristine copy of
    every table a case may touch (a database per case, CREATE DATABASE ... TEMPLATE, costs a
    checkpoint at each drop: seconds per case on a loaded machine)."""
    url = make_url(seeded.url)
    # The keys and the last signed size beside them are the case's own too: a case that signs
    # (a lodging with its receipt) must not leave the next one a log "rolled back" behind them.
    var_dir = tmp_path / "var"
    shutil.copytree(seeded.var_dir, var_dir)
    if url.get_backend_name() == "sqlite":
        copy = tmp_path / "case.db"
        source, target = sqlite3.connect(str(url.database)), sqlite3.connect(copy)
        source.backup(target)
        source.close()
        target.close()
        case = f"sqlite:///{copy}"
        _use(monkeypatch, case, var_dir, seeded.policy)
        yield case
        return
    _use(monkeypatch, seeded.url, var_dir, seeded.policy)
    try:
        yield seeded.url
    finally:
        with _connect(seeded.url) as conn:
            for table in reversed(TOUCHED):
                conn.execute(text(f"DELETE FROM {table}"))
            for table in TOUCHED:
                conn.execute(text(f"INSERT INTO {table} SELECT * FROM pristine_{table}"))


# --- what a case tampers with -------------------------------------------------------------------


def _json(value: Any) -> dict[str, Any]:
    """A JSON column value as the bound parameter `v` (see _jcast)."""
    return {"v": json.dumps(value)}


def _jcast(conn: Connection) -> str:
    return "CAST(:v AS JSONB)" if conn.dialect.name == "postgresql" else ":v"


def _flip(blob: bytes) -> bytes:
    return bytes([blob[0] ^ 1]) + blob[1:]


@dataclass(frozen=True)
class Target:
    """One table whose rows the ledger commits to: how to find the row a case attacks (committed
    after checkpoint A, so rolling the log back is visible too), a second row to swap it with,
    and the raw SQL of each edit."""

    table: str
    pick: Callable[[Connection, Seeded], tuple[int, int]]  # (row id, ledger index)
    other: Callable[[Connection, Seeded, int], tuple[int, int]]  # another row of the table
    edit_clear: Callable[[Connection, int], None]
    edit_sealed: Callable[[Connection, int], None]
    insert: Callable[[Connection, int], int | None]  # the forged row's ledger index
    # What the report says of a forged row that claims no entry.
    unentered: str = "row has no ledger entry"
    swap: Callable[[Connection, str, tuple[int, int], tuple[int, int]], None] | None = None


def _one(conn: Connection, sql: str, **params: Any) -> tuple[int, int]:
    row = conn.execute(text(sql), params).one()
    return int(row[0]), int(row[1])


def _version_pick(conn: Connection, s: Seeded) -> tuple[int, int]:
    return _one(
        conn,
        "SELECT v.id, v.ledger_index FROM declaration_versions v JOIN declarations d ON d.id = v.declaration_id"
        " WHERE d.mrn = :mrn AND v.version = 2",
        mrn=s.amended,
    )


def _version_other(conn: Connection, s: Seeded, not_id: int) -> tuple[int, int]:
    return _one(conn, "SELECT id, ledger_index FROM declaration_versions WHERE id <> :i ORDER BY id LIMIT 1", i=not_id)


def _version_clear(conn: Connection, row_id: int) -> None:
    clear = conn.execute(text("SELECT clear_doc FROM declaration_versions WHERE id = :i"), {"i": row_id}).scalar_one()
    clear = json.loads(clear) if isinstance(clear, str) else clear
    clear["office_of_presentation"] = "GB000085"
    conn.execute(
        text(f"UPDATE declaration_versions SET clear_doc = {_jcast(conn)} WHERE id = :i"),
        _json(clear) | {"i": row_id},
    )


def _version_sealed(conn: Connection, row_id: int) -> None:
    salt = conn.execute(text("SELECT salt FROM declaration_versions WHERE id = :i"), {"i": row_id}).scalar_one()
    conn.execute(
        text("UPDATE declaration_versions SET salt = :s WHERE id = :i"), {"s": _flip(bytes(salt)), "i": row_id}
    )


def _copy_row(conn: Connection, table: str, row_id: int, changes: dict[str, Any]) -> None:
    """INSERT a copy of a row (a new id) with some columns changed: a forged row."""
    row = dict(conn.execute(text(f"SELECT * FROM {table} WHERE id = :i"), {"i": row_id}).mappings().one())
    row.pop("id")
    row.update(changes)
    columns = ", ".join(row)
    values = ", ".join(
        (f"CAST(:{c} AS JSONB)" if conn.dialect.name == "postgresql" else f":{c}")
        if isinstance(v, dict | list)
        else f":{c}"
        for c, v in row.items()
    )
    params = {c: json.dumps(v) if isinstance(v, dict | list) else v for c, v in row.items()}
    conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), params)


def _version_insert(conn: Connection, row_id: int) -> int | None:
    # A forged version 3 claiming the amendment's ledger entry.
    _copy_row(conn, "declaration_versions", row_id, {"version": 3})
    return _index_of(conn, "declaration_versions", row_id)


def _index_of(conn: Connection, table: str, row_id: int) -> int:
    return int(conn.execute(text(f"SELECT ledger_index FROM {table} WHERE id = :i"), {"i": row_id}).scalar_one())


def _groups_clear(conn: Connection, row_id: int) -> None:
    protected = conn.execute(
        text("SELECT protected FROM declaration_versions WHERE id = :i"), {"i": row_id}
    ).scalar_one()
    protected = json.loads(protected) if isinstance(protected, str) else protected
    # Relabel a personal group as trade data: the label decides which roles may read it.
    name = next(n for n, entry in protected.items() if entry[0] == "personal")
    protected[name][0] = "trade"
    conn.execute(
        text(f"UPDATE declaration_versions SET protected = {_jcast(conn)} WHERE id = :i"),
        _json(protected) | {"i": row_id},
    )


def _groups_sealed(conn: Connection, row_id: int) -> None:
    protected = conn.execute(
        text("SELECT protected FROM declaration_versions WHERE id = :i"), {"i": row_id}
    ).scalar_one()
    protected = json.loads(protected) if isinstance(protected, str) else protected
    name = sorted(protected)[0]
    blob = base64_flip(protected[name][2])
    protected[name][2] = blob
    conn.execute(
        text(f"UPDATE declaration_versions SET protected = {_jcast(conn)} WHERE id = :i"),
        _json(protected) | {"i": row_id},
    )


def base64_flip(encoded: str) -> str:
    return base64.b64encode(_flip(base64.b64decode(encoded))).decode()


def _groups_insert(conn: Connection, row_id: int) -> int | None:
    # A forged extra group added to the version's sealed map.
    protected = conn.execute(
        text("SELECT protected FROM declaration_versions WHERE id = :i"), {"i": row_id}
    ).scalar_one()
    protected = json.loads(protected) if isinstance(protected, str) else protected
    name = sorted(protected)[0]
    protected[name + "x"] = list(protected[name])
    conn.execute(
        text(f"UPDATE declaration_versions SET protected = {_jcast(conn)} WHERE id = :i"),
        _json(protected) | {"i": row_id},
    )
    return _index_of(conn, "declaration_versions", row_id)


def _event_pick(conn: Connection, s: Seeded) -> tuple[int, int]:
    return _one(
        conn,
        "SELECT e.id, e.ledger_index FROM declaration_events e JOIN declarations d ON d.id = e.declaration_id"
        " WHERE d.mrn = :mrn AND e.to_status = 'released'",
        mrn=s.held,
    )


def _event_other(conn: Connection, s: Seeded, not_id: int) -> tuple[int, int]:
    return _one(
        conn,
        "SELECT e.id, e.ledger_index FROM declaration_events e JOIN declarations d ON d.id = e.declaration_id"
        " WHERE d.mrn = :mrn AND e.to_status = 'held'",
        mrn=s.held,
    )


def _event_clear(conn: Connection, row_id: int) -> None:
    conn.execute(
        text("UPDATE declaration_events SET to_status = 'rejected', reason = 'goods seized' WHERE id = :i"),
        {"i": row_id},
    )


def _event_sealed(conn: Connection, row_id: int) -> None:
    salt = conn.execute(text("SELECT salt FROM declaration_events WHERE id = :i"), {"i": row_id}).scalar_one()
    conn.execute(text("UPDATE declaration_events SET salt = :s WHERE id = :i"), {"s": _flip(bytes(salt)), "i": row_id})


def _event_insert(conn: Connection, row_id: int) -> int | None:
    # A second "released" transition claiming the genuine one's entry.
    _copy_row(conn, "declaration_events", row_id, {"reason": "released on a forged order"})
    return _index_of(conn, "declaration_events", row_id)


def _audit_pick(conn: Connection, s: Seeded) -> tuple[int, int]:
    return _one(conn, "SELECT id, ledger_index FROM audit_events ORDER BY ledger_index DESC LIMIT 1")


def _audit_other(conn: Connection, s: Seeded, not_id: int) -> tuple[int, int]:
    return _one(
        conn, "SELECT id, ledger_index FROM audit_events WHERE id <> :i ORDER BY ledger_index LIMIT 1", i=not_id
    )


def _audit_clear(conn: Connection, row_id: int) -> None:
    conn.execute(text("UPDATE audit_events SET actor = 'somebody-else' WHERE id = :i"), {"i": row_id})


def _audit_sealed(conn: Connection, row_id: int) -> None:
    salt = conn.execute(text("SELECT salt FROM audit_events WHERE id = :i"), {"i": row_id}).scalar_one()
    conn.execute(text("UPDATE audit_events SET salt = :s WHERE id = :i"), {"s": _flip(bytes(salt)), "i": row_id})


def _audit_insert(conn: Connection, row_id: int) -> int | None:
    # Audit rows claim distinct entries (a unique index): the forgery has none.
    _copy_row(conn, "audit_events", row_id, {"event_id": uuid.uuid4().hex, "actor": "forger", "ledger_index": None})
    return None


def _risk_pick(conn: Connection, s: Seeded) -> tuple[int, int]:
    """The amendment's risk assessment (its version's entry commits to it)."""
    return _risk_of(conn, s.amended, 2)


def _risk_of(conn: Connection, mrn: str, version: int) -> tuple[int, int]:
    row_id = conn.execute(
        text("SELECT max(id) FROM risk_assessments WHERE declaration_ref = :m"), {"m": mrn}
    ).scalar_one()
    index = conn.execute(
        text(
            "SELECT v.ledger_index FROM declaration_versions v JOIN declarations d ON d.id = v.declaration_id"
            " WHERE d.mrn = :m AND v.version = :v"
        ),
        {"m": mrn, "v": version},
    ).scalar_one()
    return int(row_id), int(index)


def _risk_other(conn: Connection, s: Seeded, not_id: int) -> tuple[int, int]:
    return _risk_of(conn, s.green, 1)  # a green decision, to swap with a controlled one


def _risk_clear(conn: Connection, row_id: int) -> None:
    conn.execute(text("UPDATE risk_assessments SET channel = 'green', basis = 'rules' WHERE id = :i"), {"i": row_id})


def _risk_insert(conn: Connection, row_id: int) -> int | None:
    # A later, milder decision for the same declaration, as if re-assessed.
    _copy_row(conn, "risk_assessments", row_id, {"channel": "green", "score": 0.01})
    return None


def _risk_swap(conn: Connection, _table: str, a: tuple[int, int], b: tuple[int, int]) -> None:
    """Swap which declaration two recorded decisions belong to."""
    refs = {
        i: conn.execute(text("SELECT declaration_ref FROM risk_assessments WHERE id = :i"), {"i": i}).scalar_one()
        for i in (a[0], b[0])
    }
    for mine, theirs in ((a[0], b[0]), (b[0], a[0])):
        conn.execute(
            text("UPDATE risk_assessments SET declaration_ref = :r WHERE id = :i"), {"r": refs[theirs], "i": mine}
        )


def _no_sealed_bytes(conn: Connection, row_id: int) -> None:
    raise AssertionError("the matrix does not edit a risk decision's sealed bytes (see its own test)")


TARGETS = {
    "risk-decisions": Target(
        "risk_assessments",
        _risk_pick,
        _risk_other,
        _risk_clear,
        _no_sealed_bytes,
        _risk_insert,
        unentered="is not committed",
        swap=_risk_swap,
    ),
    "versions": Target(
        "declaration_versions", _version_pick, _version_other, _version_clear, _version_sealed, _version_insert
    ),
    "sealed-groups": Target(
        "declaration_versions", _version_pick, _version_other, _groups_clear, _groups_sealed, _groups_insert
    ),
    "transitions": Target("declaration_events", _event_pick, _event_other, _event_clear, _event_sealed, _event_insert),
    "audit-events": Target("audit_events", _audit_pick, _audit_other, _audit_clear, _audit_sealed, _audit_insert),
}
TAMPERS = ("edit-clear", "edit-sealed", "delete", "insert", "swap", "truncate-tail", "rollback")


def _swap(conn: Connection, table: str, a: tuple[int, int], b: tuple[int, int]) -> None:
    """Swap which ledger entry two rows claim (their order in the log)."""
    conn.execute(text(f"UPDATE {table} SET ledger_index = -1 WHERE id = :i"), {"i": a[0]})
    conn.execute(text(f"UPDATE {table} SET ledger_index = :x WHERE id = :i"), {"x": a[1], "i": b[0]})
    conn.execute(text(f"UPDATE {table} SET ledger_index = :x WHERE id = :i"), {"x": b[1], "i": a[0]})


def _rollback(conn: Connection) -> None:
    """Put the ledger's own tables back as they were at checkpoint A: a consistent, older log."""
    for table in LEDGER_TABLES:
        conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text(f"INSERT INTO {table} SELECT * FROM snap_{table}"))


# A risk decision's sealed bytes (its scored records) are not part of the committed decision: their
# edit is caught by authentication instead, in test_edited_sealed_risk_records_are_named.
CASES = [(t, k) for t in sorted(TARGETS) for k in TAMPERS if (t, k) != ("risk-decisions", "edit-sealed")]


@pytest.mark.asvs("V16.4.2")
@pytest.mark.parametrize(("target", "tamper"), CASES)
def test_tampering_is_named_by_ledger_verify(seeded: Seeded, case_url: str, target: str, tamper: str) -> None:
    spec = TARGETS[target]
    with _connect(case_url) as conn:
        row_id, index = spec.pick(conn, seeded)
        expected: int | None = index
        if tamper == "edit-clear":
            spec.edit_clear(conn, row_id)
        elif tamper == "edit-sealed":
            spec.edit_sealed(conn, row_id)
        elif tamper == "delete":
            conn.execute(text(f"DELETE FROM {spec.table} WHERE id = :i"), {"i": row_id})
        elif tamper == "insert":
            forged = spec.insert(conn, row_id)
            if forged is None:  # a row with no entry at all: named by its record, no entry diverges
                expected = None
        elif tamper == "swap":
            other = spec.other(conn, seeded, row_id)
            (spec.swap or _swap)(conn, spec.table, (row_id, index), other)
            expected = min(index, other[1])
        elif tamper == "truncate-tail":
            conn.execute(text("DELETE FROM ledger_entries WHERE idx >= :i"), {"i": index})
        else:
            _rollback(conn)
            expected = seeded.checkpoint_a
            assert index >= expected
    result = cli("ledger", "verify")
    assert result.exit_code == 1, result.output
    if expected is None:
        assert spec.unentered in result.output, result.output
        return
    assert f"first divergent entry: {expected}" in result.output, result.output
    assert f"entry {index}:" in result.output, result.output


# --- item 2: current state against committed history --------------------------------------------


def _verify_fails(*needles: str) -> str:
    result = cli("ledger", "verify")
    assert result.exit_code == 1, result.output
    flat = " ".join(result.output.split())  # the console wraps long lines
    for needle in needles:
        assert needle in flat, result.output
    return flat


def test_a_held_declaration_set_released_by_hand_is_named(seeded: Seeded, case_url: str) -> None:
    with _connect(case_url) as conn:
        conn.execute(
            text("UPDATE declarations SET status = 'released', channel = 'green', office = 'GB000085' WHERE mrn = :m"),
            {"m": seeded.holding},
        )
    _verify_fails(
        f"{seeded.holding} (last committed entry",
        "status released, its last committed transition says held",
        "channel green, its committed history says yellow",
        "office GB000085, its committed version says",
    )


def test_a_deleted_risk_assessment_is_named(seeded: Seeded, case_url: str) -> None:
    with _connect(case_url) as conn:
        conn.execute(text("DELETE FROM risk_assessments WHERE declaration_ref = :m"), {"m": seeded.holding})
    _verify_fails(f"{seeded.holding} (last committed entry", "its risk assessment is missing", "its row was altered")


def test_edited_sealed_risk_records_are_named(seeded: Seeded, case_url: str) -> None:
    # The scored records (item prices) are sealed under the declarant's key: an edit of those bytes
    # fails authentication, which verify reports for the declaration it belongs to.
    with _connect(case_url) as conn:
        row_id, blob = conn.execute(
            text("SELECT id, sealed_items FROM risk_assessments WHERE declaration_ref = :m ORDER BY id DESC"),
            {"m": seeded.holding},
        ).first() or (None, None)
        assert blob is not None, "the assessment keeps its scored records sealed"
        tampered = bytes(blob)[:-1] + bytes([bytes(blob)[-1] ^ 1])
        conn.execute(text("UPDATE risk_assessments SET sealed_items = :b WHERE id = :i"), {"b": tampered, "i": row_id})
    _verify_fails(f"{seeded.holding} (last committed entry", "fail authentication")


def test_a_declaration_with_no_history_is_named(seeded: Seeded, case_url: str) -> None:
    with _connect(case_url) as conn:
        _copy_row(
            conn,
            "declarations",
            int(conn.execute(text("SELECT id FROM declarations WHERE mrn = :m"), {"m": seeded.green}).scalar_one()),
            {"mrn": "26GB00000000000001", "lrn": "FORGED-1"},
        )
    _verify_fails("26GB00000000000001: a declaration with no committed version")


def test_a_committed_declaration_with_no_rows_is_named(seeded: Seeded, case_url: str) -> None:
    with _connect(case_url) as conn:
        declaration_id = conn.execute(text("SELECT id FROM declarations WHERE mrn = :m"), {"m": seeded.green})
        declaration_id = declaration_id.scalar_one()
        index = conn.execute(
            text("SELECT ledger_index FROM declaration_versions WHERE declaration_id = :d"), {"d": declaration_id}
        ).scalar_one()
        for table in ("declaration_events", "declaration_parties", "declaration_versions"):
            conn.execute(text(f"DELETE FROM {table} WHERE declaration_id = :d"), {"d": declaration_id})
        conn.execute(text("DELETE FROM declarations WHERE id = :d"), {"d": declaration_id})
        conn.execute(text("DELETE FROM risk_assessments WHERE declaration_ref = :m"), {"m": seeded.green})
    _verify_fails(f"first divergent entry: {index}", "its row is missing")


# --- item 7: what the public log shows ----------------------------------------------------------


def test_the_published_log_shows_no_mrn_and_one_kind_for_declarations(
    seeded: Seeded, case_url: str, tmp_path: Path
) -> None:
    ok("ledger", "publish", str(tmp_path / "pub"))
    bundles = b"".join(p.read_bytes() for p in (tmp_path / "pub").rglob("*") if "entries" in p.parts and p.is_file())
    with _connect(case_url) as conn:
        mrns = [m for (m,) in conn.execute(text("SELECT mrn FROM declarations"))]
        entries = [bytes(d) for (d,) in conn.execute(text("SELECT data FROM ledger_entries ORDER BY idx"))]
    assert mrns and entries and bundles
    for mrn in mrns:
        assert mrn.encode() not in bundles
    kinds = {e.split(b"\n")[1] for e in entries}
    assert kinds == {b"declaration.event", b"audit.event"}, kinds
    ids = [e.split(b"\n")[2] for e in entries if e.split(b"\n")[1] == b"declaration.event"]
    assert len(ids) == len(set(ids))  # one id per entry: a declaration's entries cannot be counted
    assert all(len(i) == 32 for i in ids)


def test_a_receipt_proves_the_declarants_entry(seeded: Seeded, case_url: str, tmp_path: Path) -> None:
    """The declarant gets the MRN and a receipt whose entry carries the record's opaque id; the
    receipt proves that entry is in the signed log, and that it is the record with that id."""
    doc = controlled("LRN-RECEIPT")
    lodged = json.loads(ok("declarations", "lodge", str(_write(tmp_path / "d.json", doc)), "--json").stdout)
    receipt = lodged["receipt"]
    entry = base64.b64decode(receipt["entry"]).decode()
    _header, kind, record_id, _commitment, _end = entry.split("\n")
    assert kind == "declaration.event" and lodged["mrn"] not in entry
    path = _write(tmp_path / "receipt.json", receipt)
    checked = ok("ledger", "verify-receipt", str(path), "--record-id", record_id)
    assert f"record {record_id}" in checked.stdout
    other = cli("ledger", "verify-receipt", str(path), "--record-id", "0" * 32)
    assert other.exit_code == 1 and "not 00000000" in " ".join(other.output.split())
    assert ok("ledger", "verify").stdout.startswith("ok:")


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path
