"""Declarations in the ledger: receipts on lodging, and `ledger verify` naming tampered rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from clearguard.config import Settings
from clearguard.crypto import init_keys
from clearguard.declarations.results import Actor
from clearguard.declarations.tables import DeclarationEventRow, DeclarationVersionRow
from clearguard.wiring import Services, build_services
from tests.helpers import example

TRADER = Actor("trader-1", "trader", "test")
OFFICER = Actor("officer-1", "officer", "test")


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Iterator[Services]:
    settings = Settings(database_url=database_url, var_dir=tmp_path / "var")
    init_keys(settings)
    built = build_services(settings)
    yield built
    built.close()


def controlled_h1() -> dict:  # type: ignore[type-arg]
    doc = example("h1-import.json")
    doc["items"][0]["origin_country"] = "KP"  # the risk rules send every DPRK origin to control
    return doc


def verify(services: Services) -> tuple[bool, int | None, str]:
    services.ledger.integrate_all(services.session_factory)
    with services.session_factory() as session:
        report = services.ledger.verify(session)
    return report.ok, report.first_divergent_index, "; ".join(str(p) for p in report.problems)


def test_lodging_returns_a_receipt_that_verifies(services: Services) -> None:
    result = services.declarations.lodge(example("h7-low-value.json"), TRADER)
    assert result.receipt is not None and result.receipt["index"] == result.ledger_index
    from clearguard.ledger.receipt import receipt_from_json

    signed = services.ledger.check_receipt(receipt_from_json(result.receipt))
    assert signed.checkpoint.size > result.ledger_index  # type: ignore[operator]
    assert verify(services)[0]


def test_decisions_get_entries_and_an_untouched_log_verifies(services: Services) -> None:
    lodged = services.declarations.lodge(controlled_h1(), TRADER)
    assert lodged.status == "under_control"
    services.declarations.decide(lodged.mrn, "hold", OFFICER, reason="laboratory sample taken")
    services.declarations.decide(lodged.mrn, "release", OFFICER, reason="laboratory result conforms")
    services.declarations.lodge(example("h7-low-value.json"), TRADER)
    with services.session_factory() as session:
        own_entries = (
            session.execute(select(DeclarationEventRow.ledger_index).where(DeclarationEventRow.salt.is_not(None)))
            .scalars()
            .all()
        )
    assert len(own_entries) == 2
    ok, _first, problems = verify(services)
    assert ok, problems


def test_an_edited_version_row_is_named(services: Services) -> None:
    first = services.declarations.lodge(controlled_h1(), TRADER)
    services.declarations.lodge(example("h7-low-value.json"), TRADER)
    assert verify(services)[0]
    with services.session_factory() as session, session.begin():
        row = session.execute(
            select(DeclarationVersionRow).where(DeclarationVersionRow.ledger_index == first.ledger_index)
        ).scalar_one()
        clear = dict(row.clear_doc)
        clear["total_packages"] = 1
        session.execute(update(DeclarationVersionRow).where(DeclarationVersionRow.id == row.id).values(clear_doc=clear))
    ok, divergent, problems = verify(services)
    assert not ok and divergent == first.ledger_index, problems
    assert "altered" in problems


def test_a_tampered_protected_value_is_named(services: Services) -> None:
    lodged = services.declarations.lodge(example("h7-low-value.json"), TRADER)
    with services.session_factory() as session, session.begin():
        row = session.execute(select(DeclarationVersionRow)).scalar_one()
        protected = {k: list(v) for k, v in row.protected.items()}
        protected["confidential:"][2] = protected["personal:"][2]  # a ciphertext moved to another group
        session.execute(update(DeclarationVersionRow).values(protected=protected))
    ok, divergent, problems = verify(services)
    assert not ok and divergent == lodged.ledger_index, problems


def test_a_deleted_decision_is_named(services: Services) -> None:
    lodged = services.declarations.lodge(controlled_h1(), TRADER)
    services.declarations.decide(lodged.mrn, "reject", OFFICER, reason="prohibited goods found")
    with services.session_factory() as session, session.begin():
        index = session.execute(
            select(DeclarationEventRow.ledger_index).where(DeclarationEventRow.salt.is_not(None))
        ).scalar_one()
        session.execute(delete(DeclarationEventRow).where(DeclarationEventRow.ledger_index == index))
    ok, divergent, problems = verify(services)
    assert not ok and divergent == index, problems
    assert "missing" in problems


def test_two_reordered_versions_are_both_named(services: Services) -> None:
    a = services.declarations.lodge(controlled_h1(), TRADER)
    b = services.declarations.lodge(example("h7-low-value.json"), TRADER)
    with services.session_factory() as session, session.begin():
        rows = {r.ledger_index: r for r in session.execute(select(DeclarationVersionRow)).scalars()}
        ia, ib = a.ledger_index, b.ledger_index
        session.execute(
            update(DeclarationVersionRow).where(DeclarationVersionRow.id == rows[ia].id).values(ledger_index=-1)
        )
        session.execute(
            update(DeclarationVersionRow).where(DeclarationVersionRow.id == rows[ib].id).values(ledger_index=ia)
        )
        session.execute(
            update(DeclarationVersionRow).where(DeclarationVersionRow.id == rows[ia].id).values(ledger_index=ib)
        )
    ok, divergent, problems = verify(services)
    assert not ok and divergent == min(ia, ib), problems  # type: ignore[type-var]
