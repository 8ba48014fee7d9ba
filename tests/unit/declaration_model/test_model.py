import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from tests.helpers import EXAMPLES

from clearguard.categories import DataCategory
from clearguard.declaration_model import H1Declaration, H7Declaration
from clearguard.declarations.categorised import category_at
from clearguard.declarations.parse import SCHEMA_RULE, parse_json, to_model
from clearguard.errors import InputError


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text())


def test_both_examples_parse_as_they_are() -> None:
    h1 = to_model(example("h1-import.json"))
    h7 = to_model(example("h7-low-value.json"))
    assert isinstance(h1, H1Declaration) and isinstance(h7, H7Declaration)
    assert h1.invoice.amount == Decimal("18250.00")
    assert h7.items[0].intrinsic_value == Decimal("42.90")


def _pointers(doc: dict[str, Any]) -> dict[str, str]:
    result = to_model(doc)
    assert isinstance(result, list), "expected findings"
    assert all(f.rule_id == SCHEMA_RULE for f in result)
    return {f.pointer: f.message for f in result}


@pytest.mark.parametrize(
    ("mutate", "pointer", "words"),
    [
        (lambda d: d["items"][0].__setitem__("item_price", 15000.0), "/items/0/item_price", "decimal string"),
        (lambda d: d["items"][0].__setitem__("item_price", "15,000"), "/items/0/item_price", "plain decimal"),
        (lambda d: d["transport"].__setitem__("mode_at_border", "1"), "/transport/mode_at_border", "integer"),
        (lambda d: d["transport"].__setitem__("mode_at_border", True), "/transport/mode_at_border", "integer"),
        (lambda d: d["items"][1].__setitem__("preferential_origin", 0), "/items/1/preferential_origin", "boolean"),
        (lambda d: d.__setitem__("surprise", 1), "/surprise", "unknown field"),
        (lambda d: d["declarant"].__setitem__("iban", "x"), "/declarant/iban", "unknown field"),
        (lambda d: d.pop("lrn"), "/lrn", "required"),
        (lambda d: d.__setitem__("items", []), "/items", "at least 1"),
        (lambda d: d.__setitem__("type", "H9"), "/type", "H1"),
    ],
)
@pytest.mark.asvs("V2.2.1", "V2.2.2")
def test_strictness_names_the_field(mutate: Any, pointer: str, words: str) -> None:
    doc = copy.deepcopy(example("h1-import.json"))
    mutate(doc)
    found = _pointers(doc)
    assert pointer in found, found
    assert words in found[pointer]


def test_all_schema_findings_come_at_once() -> None:
    doc = example("h7-low-value.json")
    doc.pop("lrn")
    doc["invoice"]["amount"] = 42.9
    doc["items"][0]["extra"] = "x"
    assert set(_pointers(doc)) == {"/lrn", "/invoice/amount", "/items/0/extra"}


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"type": "H1",', "malformed JSON at line 1"),
        (b"[1, 2]", "JSON object, not list"),
        (b'{"a": 1, "a": 2}', "duplicate key"),
        (b'{"a": NaN}', "NaN is not valid JSON"),
        (b"x" * 101, "larger than the limit"),
    ],
)
def test_unreadable_input_is_one_line(raw: bytes, words: str) -> None:
    with pytest.raises(InputError) as info:
        parse_json(raw, max_bytes=100)
    assert words in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("kind", "path", "category"),
    [
        ("H7", ("consignee", "name"), DataCategory.PERSONAL),
        ("H7", ("consignee", "address", "street"), DataCategory.PERSONAL),
        ("H7", ("consignee", "address", "country"), DataCategory.CODE),
        ("H1", ("declarant", "contact", "email"), DataCategory.PERSONAL),
        ("H1", ("seller", "name"), DataCategory.CONFIDENTIAL),
        ("H1", ("items", 3, "item_price"), DataCategory.CONFIDENTIAL),
        ("H1", ("items", 0, "description"), DataCategory.TRADE),
        ("H1", ("items", 0, "commodity_code"), DataCategory.CODE),
        ("H1", ("items", 0, "documents", 0, "code"), DataCategory.CODE),
        ("H1", ("items", 0, "documents", 0, "reference"), DataCategory.CONFIDENTIAL),
        ("H1", ("invoice", "amount"), DataCategory.CONFIDENTIAL),
        ("H1", ("delivery_terms", "place"), DataCategory.CONFIDENTIAL),
    ],
)
@pytest.mark.asvs("V14.1.1")
def test_every_field_has_its_data_category(kind: str, path: tuple[Any, ...], category: DataCategory) -> None:
    assert category_at(kind, path) is category


def test_every_leaf_of_the_schema_is_tagged_or_inherits_a_tag() -> None:
    for name in ("h1-import.json", "h7-low-value.json"):
        model = to_model(example(name))
        assert not isinstance(model, list)
        schema = type(model).model_json_schema()
        assert "x-category" in json.dumps(schema)
