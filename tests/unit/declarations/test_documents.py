import json
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from tests.helpers import EXAMPLES

from clearguard.categories import DataCategory
from clearguard.crypto.fields import ERASED_TEXT
from clearguard.declaration_model import DeclarationModel
from clearguard.declarations.categorised import categorise, seal_plan
from clearguard.declarations.documents import canonical_json, join, split, split_doc
from clearguard.declarations.parse import to_model
from clearguard.declarations.samples import generate


def parsed(doc: dict[str, Any]) -> DeclarationModel:
    model = to_model(doc)
    assert not isinstance(model, list)
    return model


def example(name: str) -> DeclarationModel:
    return parsed(json.loads((EXAMPLES / name).read_text()))


def stored(model: DeclarationModel) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    clear, groups = split(model)
    # Through JSON, as the database stores them.
    sealed = {g.name: [g.category.value, 0, orjson.dumps(v).decode()] for g, v in groups}
    return orjson.loads(orjson.dumps(clear)), sealed


def open_all(entries: list[tuple[str, list[Any]]]) -> list[Any]:
    return [orjson.loads(entry[2]) for _name, entry in entries]


def recording(calls: list[list[str]]) -> Callable[[list[tuple[str, list[Any]]]], list[Any]]:
    """open_all that notes the names of each call's groups in `calls`."""

    def open_values(entries: list[tuple[str, list[Any]]]) -> list[Any]:
        calls.append([name for name, _entry in entries])
        return open_all(entries)

    return open_values


MODELS = [example("h1-import.json"), example("h7-low-value.json"), *(parsed(d) for d in generate(200, seed=11))]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{m.type}-{m.lrn}")
def test_the_clear_part_holds_no_protected_value_and_join_restores_the_document(model: DeclarationModel) -> None:
    doc = model.model_dump(mode="json", exclude_none=True)
    clear, protected = stored(model)
    assert [c for _p, _v, c in categorise(model.type, clear) if c.protected] == []
    for group, values in split(model)[1]:
        assert {c for _p, _v, c in categorise(model.type, values)} <= {group.category}
    assert join(model.type, clear, protected, lambda _n, _c: True, open_all) == doc
    assert canonical_json(join(model.type, clear, protected, lambda _n, _c: True, open_all)) == canonical_json(doc)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{m.type}-{m.lrn}")
def test_the_split_is_pydantics_include_and_exclude(model: DeclarationModel) -> None:
    plan = seal_plan(model.type)
    clear, groups = split_doc(model.type, model.model_dump(mode="json", exclude_none=True))
    assert clear == model.model_dump(mode="json", exclude_none=True, exclude=plan.exclude)
    assert [(g, v) for g, v in groups] == [
        (g, model.model_dump(mode="json", exclude_none=True, include=g.include)) for g in plan.groups
    ]


def test_every_group_of_the_type_is_stored_even_when_empty() -> None:
    model = example("h1-import.json")
    _clear, protected = stored(model)
    assert sorted(protected) == sorted(g.name for g in seal_plan("H1").groups)


def test_a_natural_person_is_sealed_in_a_group_of_its_own() -> None:
    groups = dict((g.name, (g, v)) for g, v in split(example("h7-low-value.json"))[1])
    group, values = groups["personal:consignee"]
    assert group.part == "consignee" and set(values) == {"consignee"}
    assert "consignee" not in groups["personal:"][1]


def test_join_leaves_out_what_the_caller_may_not_see() -> None:
    model = example("h7-low-value.json")
    clear, protected = stored(model)
    calls: list[list[str]] = []
    open_values = recording(calls)
    seen = join("H7", clear, protected, lambda _n, c: c is not DataCategory.PERSONAL, open_values)
    assert "name" not in seen["consignee"] and seen["consignee"]["address"]["country"] == "NL"
    assert seen["invoice"]["amount"] == "42.90"
    assert calls == [["confidential:"]]  # withheld groups are never decrypted; the rest in one call


def test_join_opens_nothing_when_every_group_is_withheld() -> None:
    model = example("h7-low-value.json")
    clear, protected = stored(model)
    calls: list[list[str]] = []
    open_values = recording(calls)
    seen = join("H7", clear, protected, lambda _n, _c: False, open_values)
    assert calls == [] and seen == clear


def test_an_erased_group_reads_as_erased_where_its_fields_were() -> None:
    model = example("h7-low-value.json")
    clear, protected = stored(model)

    def open_values(entries: list[tuple[str, list[Any]]]) -> list[Any]:
        return [ERASED_TEXT if name == "personal:consignee" else orjson.loads(entry[2]) for name, entry in entries]

    seen = join("H7", clear, protected, lambda _n, _c: True, open_values)
    assert seen["consignee"]["name"] == ERASED_TEXT and seen["consignee"]["contact"] == ERASED_TEXT
    assert seen["consignee"]["address"] == {"country": "NL", "street": ERASED_TEXT, "city": ERASED_TEXT,
                                            "postcode": ERASED_TEXT}  # fmt: skip
    assert seen["declarant"]["name"] == model.declarant.name


def test_fields_sealed_one_by_one_by_earlier_versions_still_join() -> None:
    model = example("h1-import.json")
    doc = model.model_dump(mode="json", exclude_none=True)
    clear, _protected = stored(model)
    old = {"/invoice/amount": ["confidential", 0, json.dumps(doc["invoice"]["amount"])]}
    seen = join("H1", clear, old, lambda _n, _c: True, lambda entries: [json.loads(e[2]) for _n, e in entries])
    assert seen["invoice"]["amount"] == doc["invoice"]["amount"]
