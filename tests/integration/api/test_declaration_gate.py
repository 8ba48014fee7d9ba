"""The access policy around the real DeclarationService: visibility, redaction, break-glass, lists."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from clearguard.access.errors import BreakGlassRequired
from clearguard.access.policy import Action
from clearguard.access.principal import MandateGrant, Principal
from clearguard.access.roles import Role
from clearguard.audit.service import AuditQuery, AuditService
from clearguard.compliance.service import ComplianceService
from clearguard.declarations.gate import DeclarationGate
from clearguard.declarations.plain_vault import PlainVault
from clearguard.declarations.results import Actor, ListFilter
from clearguard.declarations.service import DeclarationService
from clearguard.errors import Forbidden, NotFound
from tests.helpers import example

TODAY = date(2026, 1, 15)
GB, NL = "GB123456789000", "NL812345678"


def who(role: Role, **kw: object) -> Principal:
    return Principal(user_id=1, username=f"u-{role.value}", role=role, **kw)  # type: ignore[arg-type]


@pytest.fixture
def gate(session_factory: sessionmaker[Session]) -> tuple[DeclarationGate, str, str, AuditService]:
    vault = PlainVault()
    audit = AuditService()
    service = DeclarationService(session_factory, compliance=ComplianceService(), vault=vault, audit=audit)
    h1 = service.lodge(example("h1-import.json"), Actor("seed", "trader")).mrn
    h7 = service.lodge(example("h7-low-value.json"), Actor("seed", "trader")).mrn
    g = DeclarationGate(service, party_key=lambda e: vault.blind_index("eori", e), factory=session_factory, audit=audit)
    return g, h1, h7, audit


def test_trader_sees_own_full_document_and_not_others(gate: tuple[DeclarationGate, str, str, AuditService]) -> None:
    g, h1, h7, _ = gate
    trader = who(Role.TRADER, party_eori=GB)
    body = g.read(trader, h1, TODAY, source="t")
    assert body["document"]["declarant"]["eori"] == GB
    assert body["document"]["seller"]["name"]  # confidential, own data
    assert body["redacted"] == []
    with pytest.raises(NotFound):
        g.read(trader, h7, TODAY, source="t")


@pytest.mark.asvs("V8.2.2")
def test_broker_needs_a_current_mandate(gate: tuple[DeclarationGate, str, str, AuditService]) -> None:
    g, h1, _, _ = gate
    broker = who(
        Role.BROKER, party_eori="GB987654321000", mandates=(MandateGrant(GB, date(2026, 1, 1), date(2026, 1, 31)),)
    )
    assert g.read(broker, h1, TODAY, source="t")["document"]["declarant"]["eori"] == GB
    with pytest.raises(NotFound):
        g.read(broker, h1, date(2026, 2, 1), source="t")


def test_analyst_gets_pseudonymised_auditor_metadata_only(
    gate: tuple[DeclarationGate, str, str, AuditService],
) -> None:
    g, h1, _, _ = gate
    analyst = g.read(who(Role.RISK_ANALYST), h1, TODAY, source="t")
    assert "name" not in analyst["document"]["seller"] and analyst["document"]["items"][0]["commodity_code"]
    assert set(analyst["redacted"]) >= {"confidential"}
    auditor = g.read(who(Role.AUDITOR), h1, TODAY, source="t")
    assert auditor["document"] == {} and auditor["findings"] == [] and auditor["mrn"] == h1


@pytest.mark.asvs("V16.3.3")
def test_officer_break_glass_is_recorded_and_flagged(gate: tuple[DeclarationGate, str, str, AuditService]) -> None:
    g, h1, h7, audit = gate
    officer = who(Role.OFFICER, office="GB000060")
    assert g.read(officer, h1, TODAY, source="t").get("break_glass") is None
    with pytest.raises(BreakGlassRequired):
        g.read(officer, h7, TODAY, source="t")
    body = g.read(officer, h7, TODAY, source="t", justification="Joint investigation request NL-2026-004")
    assert body["break_glass"] is True and body["document"]["consignee"]["name"]
    with g.factory() as session:
        events = audit.query(session, AuditQuery())
    flagged = [e for e in events if e.action == "declaration.break-glass"]
    assert len(flagged) == 1 and flagged[0].record_id == h7
    assert flagged[0].justification == "Joint investigation request NL-2026-004"
    with pytest.raises(Forbidden):
        g.check_action(officer, h7, Action.DECIDE, TODAY)
    g.check_action(officer, h1, Action.DECIDE, TODAY)


def test_lodge_and_amend_checks(gate: tuple[DeclarationGate, str, str, AuditService]) -> None:
    g, h1, h7, _ = gate
    trader = who(Role.TRADER, party_eori=GB)
    g.check_lodge(trader, example("h1-import.json"), TODAY)
    with pytest.raises(Forbidden):
        g.check_lodge(trader, example("h7-low-value.json"), TODAY)
    g.check_action(trader, h1, Action.AMEND, TODAY)
    with pytest.raises(NotFound):
        g.check_action(trader, h7, Action.AMEND, TODAY)


def test_list_is_narrowed_to_the_principal(gate: tuple[DeclarationGate, str, str, AuditService]) -> None:
    g, h1, h7, _ = gate
    service = g.declarations

    def mrns(principal: Principal) -> set[str]:
        f = g.list_filter(principal, TODAY, ListFilter())
        return set() if f is None else {s.mrn for s in service.list(f).items}

    assert mrns(who(Role.TRADER, party_eori=GB)) == {h1}
    assert mrns(who(Role.TRADER, party_eori=NL)) == {h7}
    assert mrns(who(Role.OFFICER, office="NL000396")) == {h7}
    assert mrns(who(Role.OFFICER)) == set()
    assert mrns(who(Role.AUDITOR)) == {h1, h7}
    assert mrns(who(Role.BROKER, party_eori="GB987654321000")) == set()
    # A trader asking for another party's declarations still gets only its own.
    f = g.list_filter(who(Role.TRADER, party_eori=GB), TODAY, ListFilter(party_eoris=frozenset({NL})))
    assert f is not None and {s.mrn for s in service.list(f).items} == set()
