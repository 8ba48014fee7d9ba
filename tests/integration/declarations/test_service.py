"""The lifecycle service on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from clearguard.compliance.service import ComplianceService
from clearguard.declarations.mrn import make_mrn
from clearguard.declarations.plain_vault import PlainVault
from clearguard.declarations.ports import OneByOne
from clearguard.declarations.results import Actor, ListFilter
from clearguard.declarations.samples import generate
from clearguard.declarations.service import DeclarationService
from clearguard.declarations.tables import DeclarationEventRow, DeclarationRow, DeclarationVersionRow
from clearguard.errors import IllegalTransition, InputError, NotFound, ValidationFailed
from clearguard.risk.lodging import RiskOutcome
from tests.helpers import example

TRADER = Actor("trader-1", "trader", "test")
OFFICER = Actor("officer-1", "officer", "test")


class ChannelByLrn(OneByOne):
    """Routes by a marker in the LRN, so a test picks the channel it needs."""

    def assess_declaration(
        self, session: Session, *, mrn: str, payload: dict[str, Any], findings: Sequence[Any], fresh: bool = False
    ) -> RiskOutcome:
        for channel in ("red", "yellow", "blue"):
            if channel.upper() in payload["lrn"]:
                return RiskOutcome(channel, 0.9, {"why": "test routing"})
        return RiskOutcome("green", 0.1, {})


@pytest.fixture
def service(session_factory: sessionmaker[Session]) -> DeclarationService:
    return DeclarationService(session_factory, compliance=ComplianceService(), vault=PlainVault(), risk=ChannelByLrn())


def counts(sf: sessionmaker[Session]) -> tuple[int, int, int]:
    with sf() as s:
        return tuple(  # type: ignore[return-value]
            s.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (DeclarationRow, DeclarationVersionRow, DeclarationEventRow)
        )


def test_both_examples_lodge_and_are_released_green(service: DeclarationService) -> None:
    for name in ("h1-import.json", "h7-low-value.json"):
        result = service.lodge(example(name), TRADER)
        assert result.created and result.status == "released" and result.channel == "green"
        assert len(result.mrn) == 18
        view = service.get(result.mrn)
        assert view.document == service.prepare(example(name)).doc
        assert [e["to"] for e in service.events(result.mrn)] == ["lodged", "accepted", "released"]


def test_same_lrn_twice_returns_the_first_mrn_and_stores_nothing(
    service: DeclarationService, session_factory: sessionmaker[Session]
) -> None:
    first = service.lodge(example("h1-import.json"), TRADER)
    before = counts(session_factory)
    again = service.lodge(example("h1-import.json"), TRADER)
    assert again.mrn == first.mrn and not again.created
    assert counts(session_factory) == before


def test_same_lrn_with_other_content_is_refused_with_a_finding(service: DeclarationService) -> None:
    service.lodge(example("h1-import.json"), TRADER)
    changed = example("h1-import.json")
    changed["total_packages"] = 161
    with pytest.raises(ValidationFailed) as info:
        service.lodge(changed, TRADER)
    assert info.value.extra["findings"][0]["rule_id"] == "CG-LRN-001"
    assert service.validate(changed)[0].rule_id == "CG-LRN-001"


def test_invalid_input_stores_nothing_and_reports_every_finding(
    service: DeclarationService, session_factory: sessionmaker[Session]
) -> None:
    doc = example("h1-import.json")
    doc["items"][0]["commodity_code"] = "99999999"
    doc["items"][1]["net_mass_kg"] = "9999.000"
    doc["invoice"]["currency"] = "XXY"
    with pytest.raises(ValidationFailed) as info:
        service.lodge(doc, TRADER)
    pointers = {f["pointer"] for f in info.value.extra["findings"]}
    assert {"/items/0/commodity_code", "/items/1/net_mass_kg", "/invoice/currency"} <= pointers
    assert counts(session_factory) == (0, 0, 0)


def test_officer_decisions_and_illegal_transitions(service: DeclarationService) -> None:
    doc = example("h1-import.json")
    doc["lrn"] = "RED-1"
    result = service.lodge(doc, TRADER)
    assert (result.status, result.channel) == ("under_control", "red")
    held = service.decide(result.mrn, "hold", OFFICER, reason="samples sent to the laboratory")
    assert held.status == "held"
    released = service.decide(result.mrn, "release", OFFICER, reason="laboratory result conforms")
    assert released.status == "released"
    with pytest.raises(IllegalTransition, match="cannot go from released to rejected"):
        service.decide(result.mrn, "reject", OFFICER, reason="too late")
    events = service.events(result.mrn)
    assert [(e["to"], e["actor"]) for e in events[-2:]] == [("held", "officer-1"), ("released", "officer-1")]
    assert events[-1]["reason"] == "laboratory result conforms"


def test_decisions_need_a_reason_and_a_known_decision(service: DeclarationService) -> None:
    doc = example("h1-import.json")
    doc["lrn"] = "YELLOW-1"
    mrn = service.lodge(doc, TRADER).mrn
    with pytest.raises(InputError, match="reason"):
        service.decide(mrn, "release", OFFICER, reason="  ")
    with pytest.raises(InputError, match="decision"):
        service.decide(mrn, "approve", OFFICER, reason="ok")
    with pytest.raises(NotFound, match="no declaration"):
        service.header(make_mrn("GB", "R"))


def test_amendments_add_versions_and_never_overwrite(service: DeclarationService) -> None:
    doc = example("h1-import.json")
    doc["lrn"] = "YELLOW-2"
    mrn = service.lodge(doc, TRADER).mrn
    doc["items"][0]["description"] = "Smartphones, 256 GB, retail boxed"
    amended = service.amend(mrn, doc, TRADER, reason="wrong storage size")
    assert amended.version == 2 and amended.status == "under_control"
    assert service.get(mrn, version=1).document["items"][0]["description"].startswith("Smartphones, 128")
    assert service.get(mrn).document["items"][0]["description"].startswith("Smartphones, 256")
    service.decide(mrn, "release", OFFICER, reason="documents checked")
    with pytest.raises(IllegalTransition, match="amendments are allowed only"):
        service.amend(mrn, doc, TRADER, reason="after release")
    other = example("h1-import.json")
    other["lrn"] = "OTHER"
    yellow = example("h1-import.json")
    yellow["lrn"] = "YELLOW-3"
    mrn3 = service.lodge(yellow, TRADER).mrn
    with pytest.raises(ValidationFailed, match="keeps the declaration's type, LRN"):
        service.amend(mrn3, other, TRADER, reason="switch")


def test_invalidation_before_release_only(service: DeclarationService) -> None:
    doc = example("h7-low-value.json")
    doc["lrn"] = "YELLOW-H7"
    mrn = service.lodge(doc, TRADER).mrn
    assert service.invalidate(mrn, TRADER, reason="sent twice").status == "invalidated"
    green = service.lodge(example("h7-low-value.json"), TRADER)
    with pytest.raises(IllegalTransition):
        service.invalidate(green.mrn, TRADER, reason="late")


def test_list_filters_and_cursor_pagination(service: DeclarationService) -> None:
    docs = generate(30, seed=7)
    mrns = [service.lodge(d, TRADER).mrn for d in docs]
    seen: list[str] = []
    cursor = None
    while True:
        page = service.list(limit=7, cursor=cursor)
        seen.extend(s.mrn for s in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(reversed(mrns))
    eori = docs[0]["declarant"]["eori"]
    by_party = service.list(ListFilter(party_eori=eori), limit=500).items
    expected = {m for m, d in zip(mrns, docs, strict=True) if d["declarant"]["eori"] == eori}
    assert {s.mrn for s in by_party} == expected
    name = docs[0]["declarant"]["name"]
    assert mrns[0] in {s.mrn for s in service.list(ListFilter(party_name=name.upper()), limit=500).items}
    h7 = service.list(ListFilter(type="H7"), limit=500).items
    assert {s.mrn for s in h7} == {m for m, d in zip(mrns, docs, strict=True) if d["type"] == "H7"}
    office = docs[0]["office_of_presentation"]
    assert all(s.office == office for s in service.list(ListFilter(office=office), limit=500).items)
    with pytest.raises(InputError, match="cursor"):
        service.list(cursor="!!not-a-cursor")


def test_bulk_lodging_keeps_good_lines_and_reports_bad_ones(
    service: DeclarationService, session_factory: sessionmaker[Session]
) -> None:
    docs = generate(10, seed=3)
    bad = example("h1-import.json")
    bad["gross_mass_kg"] = "1.000"
    lines: list[tuple[int, Any]] = list(enumerate(docs, start=1))
    lines.insert(4, (99, bad))
    outcomes = dict(service.lodge_many(iter(lines), TRADER, batch_size=4))
    assert isinstance(outcomes[99], ValidationFailed)
    assert service.count() == 10
    again = dict(service.lodge_many(iter(lines), TRADER, batch_size=4))
    assert service.count() == 10
    assert all(getattr(o, "created", None) is False for n, o in again.items() if n != 99)


def test_an_lrn_twice_in_one_batch_is_lodged_once(
    service: DeclarationService, session_factory: sessionmaker[Session]
) -> None:
    doc = example("h1-import.json")
    doc["lrn"] = "LRN-YELLOW-TWICE"
    other = example("h1-import.json") | {"lrn": "LRN-YELLOW-TWICE", "total_packages": 161}
    outcomes = dict(service.lodge_many(iter([(1, doc), (2, doc), (3, other)]), TRADER))
    first, repeat, refused = outcomes[1], outcomes[2], outcomes[3]
    assert not isinstance(first, Exception) and not isinstance(repeat, Exception)
    assert first.created and first.channel == "yellow" and first.status == "under_control"
    assert (repeat.mrn, repeat.status, repeat.channel, repeat.created) == (first.mrn, first.status, "yellow", False)
    assert isinstance(refused, ValidationFailed) and first.mrn in str(refused)
    assert counts(session_factory) == (1, 1, 3)


def test_reveal_decides_which_protected_fields_are_opened(service: DeclarationService) -> None:
    mrn = service.lodge(example("h7-low-value.json"), TRADER).mrn
    view = service.get(mrn, reveal=lambda _p, category: category.value != "personal")
    assert "name" not in view.document.get("consignee", {})
    assert view.document["consignee"]["address"]["country"] == "NL"
    assert view.document["invoice"]["amount"] == "42.90"
    assert view.party_refs["consignee"].startswith("person:")
    assert view.party_refs["declarant"].startswith("eori:")


def test_nul_characters_are_a_finding_not_a_database_error(
    service: DeclarationService, session_factory: sessionmaker[Session]
) -> None:
    doc = example("h1-import.json")
    doc["items"][1]["description"] = "Leather shoes\x00"
    with pytest.raises(ValidationFailed) as info:
        service.lodge(doc, TRADER)
    assert info.value.extra["findings"][0]["pointer"] == "/items/1/description"
    assert "NUL" in info.value.extra["findings"][0]["message"]
    assert service.validate(doc)[0].rule_id == "CG-SCHEMA-002"
    assert counts(session_factory) == (0, 0, 0)
