import json
from typing import Any

import pytest
from tests.helpers import EXAMPLES

from clearguard.declarations.documents import canonical_json, join, split
from clearguard.declarations.parse import to_model


def normalised(name: str) -> dict[str, Any]:
    model = to_model(json.loads((EXAMPLES / name).read_text()))
    assert not isinstance(model, list)
    return model.model_dump(mode="json", exclude_none=True)


@pytest.mark.parametrize("name", ["h1-import.json", "h7-low-value.json"])
def test_split_leaves_nothing_protected_in_the_clear_part_and_join_restores_it(name: str) -> None:
    doc = normalised(name)
    clear, protected = split(doc["type"], doc)
    text = canonical_json(clear).decode()
    for _ptr, _path, value, _cat in protected:
        assert json.dumps(value)[1:-1] not in text or len(str(value)) < 4
    stored = {ptr: [cat.value, 0, value] for ptr, _path, value, cat in protected}
    assert join(clear, stored, lambda _p, _c: True, lambda _p, entry: entry[2]) == doc


def test_join_leaves_out_what_the_caller_may_not_see() -> None:
    doc = normalised("h7-low-value.json")
    clear, protected = split("H7", doc)
    stored = {ptr: [cat.value, 0, value] for ptr, _path, value, cat in protected}
    seen = join(clear, stored, lambda _p, c: c.value != "personal", lambda _p, entry: entry[2])
    assert "consignee" not in seen or "name" not in seen.get("consignee", {})
    assert seen["invoice"]["amount"] == "42.90"
    assert seen["consignee"]["address"]["country"] == "NL"
