"""Ledgers written before issue 13: their declaration entries keep verifying as they were written.

Before, a version entered as kind `declaration.version` with record id MRN/version, a transition as
`declaration.transition` with the MRN, and neither committed the risk decision. The log is
append-only, so those entries stay; `ledger verify` reads the format from each entry's kind. The old
writer is the product's DeclarationService with the entry encoder it had (`commit_entry`) and a
risk engine whose outcome carries no recorded decision, which is what the old canonical form held.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.config import Settings
from clearguard.declarations.results import Actor
from clearguard.declarations.service import DeclarationService
from clearguard.ledger.commitment import commit_entry, decode_entry
from clearguard.wiring import Services, build_services
from tests.helpers import example

runner = CliRunner()
TRADER = Actor("trader-1", "trader", "test")
OFFICER = Actor("officer-1", "officer", "test")


class _DecisionNotCommitted:
    """The risk engine as the old writer saw it: the same decisions, recorded, but the outcome
    carries none of the assessment's fields, so the version commits to no decision."""

    def __init__(self, services: Services) -> None:
        self._risk = services.risk

    def assess_declaration(self, session: Session, **kwargs: Any) -> Any:
        outcome = self._risk.assess_declaration(session, **kwargs)
        return dataclasses.replace(outcome, reasons={"channel": outcome.channel})

    def assess_declarations(self, session: Session, items: Sequence[Any], *, fresh: bool = False) -> list[Any]:
        outcomes = self._risk.assess_declarations(session, items, fresh=fresh)
        return [dataclasses.replace(o, reasons={"channel": o.channel}) for o in outcomes]


@pytest.fixture
def env(empty_database: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    url, _engine = empty_database
    monkeypatch.setenv("CLEARGUARD_DATABASE_URL", url)
    monkeypatch.setenv("CLEARGUARD_VAR_DIR", str(tmp_path / "var"))
    policy = (resources.files("clearguard.risk") / "policy.yaml").read_text()
    quiet = policy.replace(
        "default: {red: 0.02, yellow: 0.05, blue: 0.03}", "default: {red: 0.0, yellow: 0.0, blue: 0.0}"
    )
    (tmp_path / "policy.yaml").write_text(quiet)
    monkeypatch.setenv("CLEARGUARD_RISK_POLICY_FILE", str(tmp_path / "policy.yaml"))
    assert runner.invoke(app, ["init", "--no-demo"]).exit_code == 0
    services = build_services(Settings())
    yield services
    services.close()


def _old_writer(services: Services) -> DeclarationService:
    return DeclarationService(
        services.session_factory,
        compliance=services.compliance,
        vault=services.vault,
        ledger=services.ledger,
        audit=services.audit,
        risk=_DecisionNotCommitted(services),  # type: ignore[arg-type]
        entry_encoder=commit_entry,
    )


def _controlled(lrn: str) -> dict[str, Any]:
    doc = example("h1-import.json")
    doc["lrn"] = lrn
    doc["items"][0]["origin_country"] = "KP"
    return doc


def _kinds(services: Services) -> list[str]:
    with services.session_factory() as session:
        rows = session.execute(text("SELECT data FROM ledger_entries ORDER BY idx")).scalars()
        return [decode_entry(bytes(data)).kind for data in rows]


def test_old_entries_verify_beside_new_ones_and_tampering_is_still_named(env: Services) -> None:
    old = _old_writer(env)
    legacy = old.lodge(_controlled("LRN-OLD-1"), TRADER)
    old.decide(legacy.mrn, "hold", OFFICER, reason="sample taken")
    green = old.lodge(example("h7-low-value.json"), TRADER)
    # The new writer continues the same declarations and lodges new ones.
    env.declarations.decide(legacy.mrn, "release", OFFICER, reason="sample conforms")
    fresh = env.declarations.lodge(_controlled("LRN-NEW-1"), TRADER)
    amendment = _controlled("LRN-NEW-1")
    amendment["items"][0]["net_mass_kg"] = "170.000"
    env.declarations.amend(fresh.mrn, amendment, TRADER, reason="mass corrected")
    kinds = _kinds(env)
    assert {"declaration.version", "declaration.transition", "declaration.event"} <= set(kinds)
    result = runner.invoke(app, ["ledger", "verify"])
    assert result.exit_code == 0 and result.stdout.startswith("ok:"), result.output

    with env.session_factory() as session, session.begin():
        session.execute(text("UPDATE declaration_events SET reason = 'no sample' WHERE reason = 'sample taken'"))
        session.execute(text("DELETE FROM risk_assessments WHERE declaration_ref = :m"), {"m": green.mrn})
    result = runner.invoke(app, ["ledger", "verify"])
    flat = " ".join(result.output.split())
    assert result.exit_code == 1, result.output
    held_index = kinds.index("declaration.transition")
    assert f"first divergent entry: {held_index}" in flat, flat
    assert f"{green.mrn} (last committed entry" in flat and "its risk assessment is missing" in flat, flat
