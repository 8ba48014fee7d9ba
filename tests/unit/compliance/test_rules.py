"""Every rule of the default pack: a valid case and each invalid variant, built from the examples."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from clearguard.compliance.findings import Finding, Severity, has_errors

from .conftest import Document, Validate, example

DELETE = object()


def apply(document: Document, changes: dict[str, Any]) -> Document:
    """Set (or delete, or append with a final '-') values at RFC 6901 pointers."""
    for pointer, value in changes.items():
        *parents, last = pointer.lstrip("/").split("/")
        target: Any = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            if last == "-":
                target.append(value)
            elif value is DELETE:
                del target[int(last)]
            else:
                target[int(last)] = value
        elif value is DELETE:
            del target[last]
        else:
            target[last] = value
    return document


@dataclass(frozen=True)
class Case:
    name: str
    base: str  # example file
    changes: dict[str, Any]
    rule_id: str
    pointer: str | None  # None: the rule must not fire

    def document(self) -> Document:
        return apply(example(self.base), self.changes)


H1, H7 = "h1-import", "h7-low-value"
PARTY: dict[str, Any] = {
    "name": "Other Party",
    "address": {"street": "1 Road", "city": "Town", "country": "DE"},
}

CASES = [
    # CG-HS-001: 6, 8 or 10 digits
    Case("hs 8 digits", H1, {"/items/0/commodity_code": "85171300"}, "CG-HS-001", None),
    Case("hs 6 digits", H1, {"/items/0/commodity_code": "851713"}, "CG-HS-001", None),
    Case("hs 7 digits", H1, {"/items/0/commodity_code": "8517130"}, "CG-HS-001", "/items/0/commodity_code"),
    Case(
        "hs 12 digits",
        H1,
        {"/items/1/commodity_code": "640399000000"},
        "CG-HS-001",
        "/items/1/commodity_code",
    ),
    Case("hs 4 digits", H7, {"/items/0/commodity_code": "9503"}, "CG-HS-001", "/items/0/commodity_code"),
    # CG-HS-002: first six digits a level-6 subheading
    Case("hs unknown", H1, {"/items/1/commodity_code": "9999990000"}, "CG-HS-002", "/items/1/commodity_code"),
    Case("hs heading padded", H1, {"/items/0/commodity_code": "851700"}, "CG-HS-002", "/items/0/commodity_code"),
    Case("hs short not double-reported", H7, {"/items/0/commodity_code": "9503"}, "CG-HS-002", None),
    # CG-CTY-001: every country field
    Case(
        "country XI and XK",
        H1,
        {"/country_of_dispatch": "XK", "/importer/address/country": "XI"},
        "CG-CTY-001",
        None,
    ),
    Case(
        "country declarant",
        H1,
        {"/declarant/address/country": "ZZ"},
        "CG-CTY-001",
        "/declarant/address/country",
    ),
    Case("country importer", H1, {"/importer/address/country": "UK"}, "CG-CTY-001", "/importer/address/country"),
    Case("country exporter", H1, {"/exporter/address/country": "QQ"}, "CG-CTY-001", "/exporter/address/country"),
    Case("country seller", H1, {"/seller/address/country": "QQ"}, "CG-CTY-001", "/seller/address/country"),
    Case(
        "country buyer",
        H1,
        {"/buyer": {**PARTY, "address": {**PARTY["address"], "country": "QQ"}}},
        "CG-CTY-001",
        "/buyer/address/country",
    ),
    Case("country dispatch", H1, {"/country_of_dispatch": "AA"}, "CG-CTY-001", "/country_of_dispatch"),
    Case(
        "country nationality",
        H1,
        {"/transport/nationality_of_means": "ZZ"},
        "CG-CTY-001",
        "/transport/nationality_of_means",
    ),
    Case("country origin", H1, {"/items/1/origin_country": "UK"}, "CG-CTY-001", "/items/1/origin_country"),
    Case("country office", H1, {"/office_of_presentation": "ZZ000060"}, "CG-CTY-001", "/office_of_presentation"),
    Case(
        "country consignee",
        H7,
        {"/consignee/address/country": "ZZ"},
        "CG-CTY-001",
        "/consignee/address/country",
    ),
    Case(
        "country consignor",
        H7,
        {"/consignor/address/country": "ZZ"},
        "CG-CTY-001",
        "/consignor/address/country",
    ),
    Case("country h7 origin", H7, {"/items/0/origin_country": "ZZ"}, "CG-CTY-001", "/items/0/origin_country"),
    # CG-CUR-001
    Case("currency EUR", H1, {"/invoice/currency": "EUR"}, "CG-CUR-001", None),
    Case("currency unknown", H1, {"/invoice/currency": "ABC"}, "CG-CUR-001", "/invoice/currency"),
    Case("currency gold", H1, {"/invoice/currency": "XAU"}, "CG-CUR-001", "/invoice/currency"),
    Case("currency withdrawn", H7, {"/invoice/currency": "HRK"}, "CG-CUR-001", "/invoice/currency"),
    Case("currency newer than pycountry", H1, {"/invoice/currency": "XCG"}, "CG-CUR-001", None),
    # CG-INC-001
    Case("incoterm DPU", H1, {"/delivery_terms/incoterm": "DPU"}, "CG-INC-001", None),
    Case("incoterm 2010 DAT", H1, {"/delivery_terms/incoterm": "DAT"}, "CG-INC-001", "/delivery_terms/incoterm"),
    Case("incoterm unknown", H1, {"/delivery_terms/incoterm": "cif"}, "CG-INC-001", "/delivery_terms/incoterm"),
    # CG-EORI-001
    Case("eori XI", H1, {"/declarant/eori": "XI123456789000"}, "CG-EORI-001", None),
    Case("eori 15 after country", H1, {"/declarant/eori": "DE123456789012345"}, "CG-EORI-001", None),
    Case("eori unknown country", H1, {"/declarant/eori": "ZZ123456"}, "CG-EORI-001", "/declarant/eori"),
    Case("eori no country", H7, {"/declarant/eori": "812345678"}, "CG-EORI-001", "/declarant/eori"),
    Case("eori symbol", H1, {"/importer/eori": "GB-123456"}, "CG-EORI-001", "/importer/eori"),
    Case("eori lowercase", H1, {"/exporter/eori": "cn12345"}, "CG-EORI-001", "/exporter/eori"),
    Case("eori consignee", H7, {"/consignee/eori": "NL 1234"}, "CG-EORI-001", "/consignee/eori"),
    # Issue 13, item 14: the issuing country's published format (the pack's table), generic elsewhere.
    Case("eori GB12", H1, {"/declarant/eori": "GB12"}, "CG-EORI-001", "/declarant/eori"),
    Case("eori GB 13 digits", H1, {"/importer/eori": "GB1234567890001"}, "CG-EORI-001", "/importer/eori"),
    Case("eori GB letter", H1, {"/declarant/eori": "GB12345678900A"}, "CG-EORI-001", "/declarant/eori"),
    Case("eori XI short", H7, {"/declarant/eori": "XI12345"}, "CG-EORI-001", "/declarant/eori"),
    Case("eori NL 8 digits", H7, {"/declarant/eori": "NL81234567"}, "CG-EORI-001", "/declarant/eori"),
    Case("eori BE 10 digits", H1, {"/importer/eori": "BE0123456789"}, "CG-EORI-001", None),
    Case("eori BE 9 digits", H1, {"/importer/eori": "BE123456789"}, "CG-EORI-001", "/importer/eori"),
    Case("eori generic FR", H1, {"/importer/eori": "FR12"}, "CG-EORI-001", None),
    # CG-CTR-001
    Case(
        "container J and Z",
        H1,
        {"/transport/container_ids": ["CSQU3054383", "CSQJ3054386", "CSQZ3054387"]},
        "CG-CTR-001",
        None,
    ),
    Case(
        "container check digit",
        H1,
        {"/transport/container_ids/0": "CSQU3054384"},
        "CG-CTR-001",
        "/transport/container_ids/0",
    ),
    Case(
        "container second",
        H1,
        {"/transport/container_ids/-": "MSKU9070324"},
        "CG-CTR-001",
        "/transport/container_ids/1",
    ),
    Case(
        "container category",
        H1,
        {"/transport/container_ids/0": "CSQX3054383"},
        "CG-CTR-001",
        "/transport/container_ids/0",
    ),
    Case(
        "container lowercase",
        H1,
        {"/transport/container_ids/0": "csqu3054383"},
        "CG-CTR-001",
        "/transport/container_ids/0",
    ),
    Case(
        "container short",
        H1,
        {"/transport/container_ids/0": "CSQU305438"},
        "CG-CTR-001",
        "/transport/container_ids/0",
    ),
    # CG-NUM-001
    Case("negative net mass", H1, {"/items/0/net_mass_kg": "-1.000"}, "CG-NUM-001", "/items/0/net_mass_kg"),
    Case("zero exchange rate", H1, {"/invoice/exchange_rate": "0"}, "CG-NUM-001", "/invoice/exchange_rate"),
    Case(
        "negative intrinsic",
        H7,
        {"/items/0/intrinsic_value": "-42.90"},
        "CG-NUM-001",
        "/items/0/intrinsic_value",
    ),
    Case("negative invoice", H1, {"/invoice/amount": "-1.00"}, "CG-NUM-001", "/invoice/amount"),
    Case("negative h7 mass", H7, {"/items/0/gross_mass_kg": "-0.8"}, "CG-NUM-001", "/items/0/gross_mass_kg"),
    # CG-MASS-001
    Case("net equals gross", H1, {"/items/0/net_mass_kg": "215.500"}, "CG-MASS-001", None),
    Case("net above gross", H1, {"/items/1/net_mass_kg": "2175.001"}, "CG-MASS-001", "/items/1/net_mass_kg"),
    # CG-MASS-002
    Case("gross total off", H1, {"/gross_mass_kg": "2390.000"}, "CG-MASS-002", "/gross_mass_kg"),
    Case(
        "gross total follows items",
        H1,
        {"/items/0/gross_mass_kg": "215.000", "/gross_mass_kg": "2390.000"},
        "CG-MASS-002",
        None,
    ),
    # CG-VAL-001
    Case("invoice within 0.01", H1, {"/invoice/amount": "18250.01"}, "CG-VAL-001", None),
    Case("invoice off by 0.02", H1, {"/invoice/amount": "18250.02"}, "CG-VAL-001", "/invoice/amount"),
    Case("invoice item price", H1, {"/items/1/item_price": "3000.00"}, "CG-VAL-001", "/invoice/amount"),
    Case("h7 invoice vs intrinsic", H7, {"/invoice/amount": "43.00"}, "CG-VAL-001", "/invoice/amount"),
    # CG-VAL-002
    Case(
        "rate in own currency",
        H1,
        {"/invoice/currency": "GBP", "/invoice/exchange_rate": DELETE},
        "CG-VAL-002",
        None,
    ),
    Case("rate missing", H1, {"/invoice/exchange_rate": DELETE}, "CG-VAL-002", "/invoice/exchange_rate"),
    Case("rate missing h7", H7, {"/invoice/currency": "USD"}, "CG-VAL-002", "/invoice/exchange_rate"),
    Case(
        "XI declares in GBP",
        H1,
        {"/office_of_presentation": "XI000142", "/invoice/currency": "GBP", "/invoice/exchange_rate": DELETE},
        "CG-VAL-002",
        None,
    ),
    Case(
        "NL needs rate for GBP",
        H1,
        {"/office_of_presentation": "NL000396", "/invoice/currency": "GBP", "/invoice/exchange_rate": DELETE},
        "CG-VAL-002",
        "/invoice/exchange_rate",
    ),
    # CG-VAL-003 (warning)
    Case("rate 1 in own currency", H7, {"/invoice/exchange_rate": "1"}, "CG-VAL-003", None),
    Case("rate in own currency", H7, {"/invoice/exchange_rate": "1.10"}, "CG-VAL-003", "/invoice/exchange_rate"),
    # CG-LVC-001
    Case(
        "h7 at 150 EUR",
        H7,
        {"/invoice/amount": "150.00", "/items/0/intrinsic_value": "150.00"},
        "CG-LVC-001",
        None,
    ),
    Case(
        "h7 above 150 EUR",
        H7,
        {"/invoice/amount": "150.01", "/items/0/intrinsic_value": "150.01"},
        "CG-LVC-001",
        "/invoice/amount",
    ),
    Case(
        "h7 USD via rate under",
        H7,
        {
            "/invoice/currency": "USD",
            "/invoice/exchange_rate": "0.85",
            "/invoice/amount": "170.00",
            "/items/0/intrinsic_value": "170.00",
        },
        "CG-LVC-001",
        None,
    ),
    Case(
        "h7 USD via rate over",
        H7,
        {
            "/invoice/currency": "USD",
            "/invoice/exchange_rate": "0.90",
            "/invoice/amount": "170.00",
            "/items/0/intrinsic_value": "170.00",
        },
        "CG-LVC-001",
        "/invoice/amount",
    ),
    Case(
        "h7 PL via table under",
        H7,
        {
            "/office_of_presentation": "PL000000",
            "/invoice/currency": "PLN",
            "/invoice/amount": "600.00",
            "/items/0/intrinsic_value": "600.00",
        },
        "CG-LVC-001",
        None,
    ),
    Case(
        "h7 PL via table over",
        H7,
        {
            "/office_of_presentation": "PL000000",
            "/invoice/currency": "PLN",
            "/invoice/amount": "700.00",
            "/items/0/intrinsic_value": "700.00",
        },
        "CG-LVC-001",
        "/invoice/amount",
    ),
    Case("h1 has no limit", H1, {}, "CG-LVC-001", None),
    # CG-LVC-002 (review)
    Case(
        "h7 rate known",
        H7,
        {"/office_of_presentation": "PL000000", "/invoice/currency": "USD", "/invoice/exchange_rate": "3.70"},
        "CG-LVC-002",
        None,
    ),
    Case(
        "h7 rate via declaring currency",
        H7,
        {"/office_of_presentation": "PL000000", "/invoice/currency": "MXN", "/invoice/exchange_rate": "0.2"},
        "CG-LVC-002",
        None,
    ),
    Case(
        "h7 rate unknown",
        H7,
        {"/office_of_presentation": "IS000000", "/invoice/currency": "MXN", "/invoice/exchange_rate": "6.9"},
        "CG-LVC-002",
        "/invoice/currency",
    ),
    # CG-PRO-001
    Case(
        "prohibited coca",
        H1,
        {"/items/1/commodity_code": "1211300000"},
        "CG-PRO-001",
        "/items/1/commodity_code",
    ),
    Case(
        "prohibited asbestos by heading",
        H7,
        {"/items/0/commodity_code": "252490"},
        "CG-PRO-001",
        "/items/0/commodity_code",
    ),
    Case("not prohibited neighbour", H7, {"/items/0/commodity_code": "121190"}, "CG-PRO-001", None),
    # CG-RES-001
    Case(
        "restricted without document",
        H1,
        {"/items/0/commodity_code": "0507100000"},
        "CG-RES-001",
        "/items/0/documents",
    ),
    Case(
        "restricted with document",
        H1,
        {
            "/items/0/commodity_code": "0507100000",
            "/items/0/documents/-": {"code": "C400", "reference": "CITES-1"},
        },
        "CG-RES-001",
        None,
    ),
    Case(
        "restricted document on other item",
        H1,
        {"/items/0/commodity_code": "0507100000", "/items/1/documents/-": {"code": "C400", "reference": "X"}},
        "CG-RES-001",
        "/items/0/documents",
    ),
    Case(
        "restricted either document",
        H7,
        {"/items/0/commodity_code": "930200", "/items/0/documents": [{"code": "C079", "reference": "LIC-9"}]},
        "CG-RES-001",
        None,
    ),
    Case(
        "restricted h7 no documents",
        H7,
        {"/items/0/commodity_code": "060210"},
        "CG-RES-001",
        "/items/0/documents",
    ),
]


def _only(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule_id]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rule(case: Case, validate: Validate) -> None:
    findings = _only(validate(case.document()), case.rule_id)
    if case.pointer is None:
        assert findings == []
        return
    assert [f.pointer for f in findings] == [case.pointer]
    finding = findings[0]
    # the message names the field and the rule
    assert case.pointer in finding.message
    assert case.rule_id in finding.message


def test_every_rule_of_the_default_pack_has_a_failing_case(service: Any) -> None:
    tested = {c.rule_id for c in CASES if c.pointer is not None} | {"CG-LRN-001"}
    assert set(service.pack_for().rule_ids) == tested


@pytest.mark.parametrize("name", [H1, H7])
def test_examples_have_no_findings(name: str, validate: Validate) -> None:
    assert validate(example(name), lrn_in_use=lambda eori, lrn: False) == []


def test_severities_of_warning_and_review_rules(validate: Validate) -> None:
    warning = validate(apply(example(H7), {"/invoice/exchange_rate": "1.10"}))
    assert [f.severity for f in warning] == [Severity.WARNING]
    assert not has_errors(warning)
    review = validate(
        apply(
            example(H7),
            {
                "/office_of_presentation": "IS000000",
                "/invoice/currency": "MXN",
                "/invoice/exchange_rate": "6.9",
            },
        )
    )
    assert [(f.rule_id, f.severity) for f in review] == [("CG-LVC-002", Severity.REVIEW)]


def test_all_findings_at_once(validate: Validate) -> None:
    document = apply(
        example(H1),
        {
            "/items/0/commodity_code": "8517130",
            "/items/1/origin_country": "UK",
            "/transport/container_ids/0": "CSQU3054384",
            "/gross_mass_kg": "1.000",
            "/invoice/exchange_rate": DELETE,
            "/items/1/net_mass_kg": "9999.000",
        },
    )
    findings = validate(document)
    assert {(f.rule_id, f.pointer) for f in findings} == {
        ("CG-HS-001", "/items/0/commodity_code"),
        ("CG-CTY-001", "/items/1/origin_country"),
        ("CG-CTR-001", "/transport/container_ids/0"),
        ("CG-MASS-001", "/items/1/net_mass_kg"),
        ("CG-MASS-002", "/gross_mass_kg"),
        ("CG-VAL-002", "/invoice/exchange_rate"),
    }
    assert has_errors(findings)


def test_findings_per_item_and_in_pack_order(validate: Validate) -> None:
    document = apply(example(H1), {"/items/0/commodity_code": "999999", "/items/1/commodity_code": "999998"})
    findings = validate(document)
    assert [(f.rule_id, f.pointer) for f in findings] == [
        ("CG-HS-002", "/items/0/commodity_code"),
        ("CG-HS-002", "/items/1/commodity_code"),
    ]


def test_lrn_unique_per_declarant(validate: Validate) -> None:
    calls: list[tuple[str, str]] = []

    def in_use(eori: str, lrn: str) -> bool:
        calls.append((eori, lrn))
        return True

    findings = validate(example(H1), lrn_in_use=in_use)
    assert calls == [("GB123456789000", "ACME-2026-000123")]
    assert [(f.rule_id, f.pointer, f.severity) for f in findings] == [("CG-LRN-001", "/lrn", Severity.ERROR)]
    assert "ACME-2026-000123" in findings[0].message
    assert validate(example(H1), lrn_in_use=lambda eori, lrn: False) == []
    assert validate(example(H1)) == []  # no lookup: not checked


def test_finding_messages_are_informative(validate: Validate) -> None:
    document = apply(example(H7), {"/invoice/amount": "200.00", "/items/0/intrinsic_value": "200.00"})
    (finding,) = validate(document)
    assert finding.message == (
        "/invoice/amount: an H7 consignment is limited to 150 EUR; 200.00 EUR is 200.00 EUR (rule CG-LVC-001)"
    )
    assert finding.to_dict()["severity"] == "error"
