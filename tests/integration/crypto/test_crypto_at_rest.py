"""At rest, end to end: declarations lodged through the lifecycle service with CryptoService leave no
personal or confidential value readable in the raw SQLite file or a PostgreSQL dump; reads decrypt;
shredding the declarant erases its fields."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from clearguard.backup.snapshot import _libpq
from clearguard.config import Settings
from clearguard.crypto import CryptoService
from clearguard.crypto.fields import ERASED_TEXT
from clearguard.crypto.setup import build_secret_box
from clearguard.db import is_sqlite, transaction
from clearguard.declarations import documents
from clearguard.declarations.parse import to_model
from clearguard.declarations.samples import generate
from clearguard.identity import accounts, totp
from clearguard.identity.passwords import Argon2Params, PasswordService
from clearguard.identity.totp_secrets import TotpSecrets


def example_documents() -> list[dict[str, Any]]:
    demo = resources.files("clearguard.declarations.demo")
    docs = [json.loads(demo.joinpath(name).read_text()) for name in ("h1-import.json", "h7-low-value.json")]
    return docs + generate(12, seed=7)


def protected_strings(doc: dict[str, Any]) -> set[str]:
    """Every personal and confidential value, as it could appear in storage (long enough to be
    meaningful: a 2-digit number could match anything)."""
    model = to_model(doc)
    assert not isinstance(model, list)
    _clear, groups = documents.split(model)
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif value is not None and len(str(value)) >= 5:
            found.add(str(value))

    for _group, values in groups:
        walk(values)
    return found


def raw_storage(database_url: str, engine: Engine) -> bytes:
    if is_sqlite(database_url):
        engine.dispose()
        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with open(path, "rb") as handle:
            return handle.read()
    uri, env, schema = _libpq(database_url)
    command = ["pg_dump", "--format=plain", f"--dbname={uri}", f"--schema={schema}"]
    return subprocess.run(command, env=env, check=True, capture_output=True).stdout


@pytest.mark.asvs("V14.2.4")
def test_no_protected_value_in_database_file_or_dump(
    vault: CryptoService,
    key_settings: Settings,
    database_url: str,
    engine: Engine,
    session_factory: sessionmaker[Session],
) -> None:
    from clearguard.compliance.service import ComplianceService
    from clearguard.declarations.results import Actor
    from clearguard.declarations.service import DeclarationService

    service = DeclarationService(session_factory, compliance=ComplianceService.from_settings(key_settings), vault=vault)
    actor = Actor("test", "system", "test")
    docs = example_documents()
    secrets: set[str] = set()
    mrns = []
    for doc in docs:
        secrets |= protected_strings(doc)
        mrns.append(service.lodge(doc, actor).mrn)
    assert len(secrets) > 50
    assert any("@" in s for s in secrets) and any(s.startswith("+") for s in secrets)  # e-mails, phones

    # Reads decrypt what the caller may see.
    view = service.get(mrns[0])
    assert view.document["declarant"]["name"] == docs[0]["declarant"]["name"]

    # The accounts' second factors too: a TOTP seed in clear would let whoever has the file mint codes.
    seeds = TotpSecrets(build_secret_box(key_settings))
    passwords = PasswordService(Argon2Params(time_cost=1, memory_cost_kib=8192))
    with transaction(session_factory) as session:
        account = accounts.create_account(
            session, passwords, username="alice", role="officer", password="plum-orbit-velvet-cascade-41",
            now=datetime.now(UTC), office="GB000085",
        )  # fmt: skip
        seed = totp.new_secret()
        seeds.put(account, seed)
        secrets.add(seed)

    raw = raw_storage(database_url, engine)
    assert mrns[0].encode() in raw and b"alice" in raw  # the search looks at real storage
    # Bounded by non-digits: a price "44.22" is not leaked by a clear gross mass "44.220".
    leaked = sorted(s for s in secrets if re.search(rb"(?<![0-9.])" + re.escape(s.encode()) + rb"(?![0-9])", raw))
    assert not leaked, f"{len(leaked)} protected values readable at rest, e.g. {leaked[:5]}"

    # Shredding the declarant erases its fields in every version, not the clear ones.
    party = "eori:" + vault.blind_index("eori", docs[0]["declarant"]["eori"])
    with transaction(session_factory) as session:
        assert vault.shred(session, party) >= 1
    after = service.get(mrns[0]).document
    assert after["declarant"]["name"] == ERASED_TEXT
    assert after["type"] == docs[0]["type"]
