"""The declarations' statistical read on SQLite and PostgreSQL: the line fields, the confidential
value opened from its sealed group (and gone once its key is shredded), the period and the
statuses that count, and the audit event of the read."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from clearguard.audit.service import AuditQuery
from clearguard.compliance.service import ComplianceService
from clearguard.config import Settings
from clearguard.crypto import init_keys
from clearguard.declarations.parties import trader_ref
from clearguard.declarations.plain_vault import PlainVault
from clearguard.declarations.ports import OneByOne
from clearguard.declarations.results import Actor
from clearguard.declarations.service import DeclarationService
from clearguard.declarations.tables import DeclarationRow
from clearguard.risk.lodging import RiskOutcome
from clearguard.wiring import build_services
from tests.helpers import example

TRADER = Actor("trader-1", "trader", "test")
DPO = Actor("dora", "dpo", "test")
OFFICER = Actor("officer-1", "officer", "test")
WIDE = (datetime.now(UTC) - timedelta(days=1), datetime.now(UTC) + timedelta(days=1))


def h1(lrn: str) -> dict[str, Any]:
    doc = copy.deepcopy(example("h1-import.json"))
    doc["lrn"] = lrn
    return doc


def test_lines_carry_code_trade_and_the_value_opened_from_its_group(engine: Engine, database_url: str) -> None:
    settings = Settings(env="test", database_url=database_url)
    init_keys(settings)
    services = build_services(settings, engine=engine)
    try:
        declarations = services.declarations
        declarations.lodge(h1("STAT-1"), TRADER)
        declarations.lodge(example("h7-low-value.json"), TRADER)
        lines = declarations.statistical_lines(*WIDE, actor=DPO)
        assert len(lines) == 3
        by_code = {line["hs_code"]: line for line in lines}
        phones = by_code["8517130000"]
        today = datetime.now(UTC).date().isoformat()
        assert phones == {
            "declaration_type": "H1", "date": today, "office": "GB000060", "dispatch_country": "CN",
            "procedure": "4000", "transport_mode": "1", "currency": "USD", "hs_code": "8517130000",
            "origin_country": "CN", "net_mass": Decimal("180.000"), "valuation_method": "1",
            "preferential_origin": None, "statistical_value": Decimal("15000.00") * Decimal("0.7900"),
        }  # fmt: skip
        assert by_code["6403990000"]["preferential_origin"] == "no"
        [parcel] = [line for line in lines if line["declaration_type"] == "H7"]
        assert parcel["net_mass"] is None and parcel["dispatch_country"] is None
        assert parcel["statistical_value"] is not None and parcel["currency"] == "EUR"
        # Nothing of a party leaves the read, confidential or personal.
        flat = repr(lines)
        for secret in ("Acme", "Shenzhen", "Jane", "GB123456789000", "NL812345678", "INV-SZB", "Felixstowe"):
            assert secret not in flat
        with services.session_factory() as session:
            [event] = services.audit.query(session, AuditQuery(action="declaration.statistics"))
        assert event.actor == "dora" and event.details is not None
        assert event.details["lines"] == 3 and event.details["declarations"] == 2
        assert event.details["opened"] == ["confidential:"]

        # The declarant's key shredded: its values are gone, its codes and masses still count.
        with services.session_factory() as session, session.begin():
            services.crypto.shred(session, trader_ref(services.vault, "GB123456789000"))
        after = {line["hs_code"]: line for line in declarations.statistical_lines(*WIDE)}
        assert after["8517130000"]["statistical_value"] is None
        assert after["8517130000"]["net_mass"] == Decimal("180.000")
        assert after["6403990000"]["statistical_value"] is None
        # Without an actor, no audit event (the caller records its own).
        with services.session_factory() as session:
            assert len(services.audit.query(session, AuditQuery(action="declaration.statistics"))) == 1
    finally:
        services.close()


class ChannelByLrn(OneByOne):
    def assess_declaration(
        self, session: Session, *, mrn: str, payload: dict[str, Any], findings: Sequence[Any], fresh: bool = False
    ) -> RiskOutcome:
        return RiskOutcome("red", 0.9, {}) if "RED" in payload["lrn"] else RiskOutcome("green", 0.1, {})


def test_only_declarations_in_force_within_the_period_count(session_factory: sessionmaker[Session]) -> None:
    service = DeclarationService(
        session_factory, compliance=ComplianceService(), vault=PlainVault(), risk=ChannelByLrn()
    )
    released = service.lodge(h1("IN-1"), TRADER).mrn
    controlled = service.lodge(h1("RED-2"), TRADER).mrn
    invalidated = service.lodge(h1("RED-3"), TRADER).mrn
    service.invalidate(invalidated, OFFICER, reason="lodged twice")
    old = service.lodge(h1("OLD-4"), TRADER).mrn
    with session_factory() as session, session.begin():
        session.execute(
            update(DeclarationRow)
            .where(DeclarationRow.mrn == old)
            .values(created_at=datetime.now(UTC) - timedelta(days=40))
        )
    assert {service.header(m).status for m in (released, controlled)} == {"released", "under_control"}
    lines = service.statistical_lines(*WIDE)
    assert len(lines) == 4  # two declarations of two lines: not the invalidated one, not the old one
    since = datetime.now(UTC) - timedelta(days=60)
    assert len(service.statistical_lines(since, WIDE[1])) == 6
    assert service.statistical_lines(WIDE[1], WIDE[1] + timedelta(days=1)) == []
