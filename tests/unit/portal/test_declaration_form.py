"""The lodging form: its fields are JSON pointers, so a finding lands beside the field it names."""

from __future__ import annotations

import json
from pathlib import Path

from clearguard.portal import declaration_form as form

EXAMPLE = Path(__file__).resolve().parents[3] / "src/clearguard/declarations/demo/h1-import.json"


def test_values_build_the_nested_document_with_numbers_and_lists() -> None:
    values = {
        "/lrn": " L1 ",
        "/declarant/eori": "GB123456789000",
        "/total_packages": "160",
        "/transport/container_ids": "CSQU3054383, MSCU1234565",
        "/items/1/commodity_code": "6403990000",
        "/items/0/packages/count": "60",
        "/items/0/documents/0/code": "N935",
        "/gross_mass_kg": "",
    }
    doc = form.document(values)
    assert doc["type"] == "H1" and doc["lrn"] == "L1"
    assert doc["total_packages"] == 160 and "gross_mass_kg" not in doc
    assert doc["transport"]["container_ids"] == ["CSQU3054383", "MSCU1234565"]
    assert doc["items"][0] == {"packages": {"count": 60}, "documents": [{"code": "N935"}]}
    assert doc["items"][1] == {"commodity_code": "6403990000"}


def test_a_mistyped_number_stays_text_for_validation_to_name() -> None:
    assert form.document({"/total_packages": "many"})["total_packages"] == "many"


def test_the_example_shown_in_the_form_comes_back_the_same_on_every_form_field() -> None:
    example = json.loads(EXAMPLE.read_text())
    values = form.values_of(example)
    again = form.document(values)
    for field in form.fields(len(example["items"])):
        assert form.value_at(again, field.pointer) == form.value_at(example, field.pointer), field.pointer
    assert form.item_count(values) == 2


def test_findings_go_beside_their_fields_or_to_the_summary() -> None:
    findings = [
        {"pointer": "/declarant/address/country", "message": "unknown country XX"},
        {"pointer": "/items/0/commodity_code", "message": "not an HS code"},
        {"pointer": "/declarant/contact/email", "message": "not on the form"},
        {"pointer": "", "message": "the whole declaration"},
    ]
    beside, elsewhere = form.findings_by_field(findings, items=1)
    assert beside == {
        "/declarant/address/country": ["unknown country XX"],
        "/items/0/commodity_code": ["not an HS code"],
    }
    assert [f["pointer"] for f in elsewhere] == ["/declarant/contact/email", ""]


def test_field_ids_and_labels_are_unique() -> None:
    fields = list(form.fields(3))
    assert len({f.id for f in fields}) == len(fields)
    assert len({f.label for f in fields}) == len(fields)
