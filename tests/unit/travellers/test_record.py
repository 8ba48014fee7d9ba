"""The traveller record's input model: strict, unknown fields refused, every error naming its field."""

from __future__ import annotations

import math
from typing import Any

import pytest

from clearguard.travellers import TravellerInputInvalid, parse_input, template_fingerprint
from clearguard.travellers.record import loads, normalise_document


def good(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "document_number": "P1234567<",
        "nationality": "FR",
        "template": [0.125 * i for i in range(128)],
        "declared_via": "red_channel",
        "goods": ["2 l spirits", "400 cigarettes"],
        "office": "GB000060",
    }
    data.update(changes)
    return data


def refused(data: Any) -> TravellerInputInvalid:
    with pytest.raises(TravellerInputInvalid) as caught:
        parse_input(data)
    assert caught.value.exit_code == 2 and caught.value.status == 422
    return caught.value


def test_a_good_record_parses_and_normalises_case() -> None:
    record = parse_input(good(document_number=" p1234567< ", nationality="fr", office="gb000060"))
    assert record.document_number == "P1234567<"
    assert record.nationality == "FR" and record.office == "GB000060"
    assert len(record.template) == 128 and all(type(v) is float for v in record.template)
    assert normalise_document(record.document_number) == "P1234567"


def test_integers_in_a_template_are_numbers() -> None:
    assert parse_input(good(template=[1] * 64)).template == [1.0] * 64


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"template": [float("nan")] + [0.0] * 63}, "template"),
        ({"template": [math.inf] * 64}, "template"),
        ({"template": [-math.inf] * 64}, "template"),
        ({"template": [True] * 64}, "template"),
        ({"template": ["0.5"] * 64}, "template"),
        ({"template": [None] * 64}, "template"),
        ({"template": [[0.5]] * 64}, "template"),
        ({"template": [10**400] * 64}, "template"),
        ({"template": [0.5] * 63}, "template"),
        ({"template": [0.5] * 2049}, "template"),
        ({"template": [0.5] * 1_000_000}, "template"),
        ({"template": "0.5,0.5"}, "template"),
        ({"template": {"0": 0.5}}, "template"),
        ({"document_number": ""}, "document_number"),
        ({"document_number": "<<<<"}, "document_number"),
        ({"document_number": "A" * 21}, "document_number"),
        ({"document_number": "AB-123"}, "document_number"),
        ({"document_number": 1234567}, "document_number"),
        ({"nationality": "F"}, "nationality"),
        ({"nationality": "QQ"}, "nationality"),
        ({"nationality": "FRA"}, "nationality"),
        ({"nationality": None}, "nationality"),
        ({"declared_via": "green_channel"}, "declared_via"),
        ({"declared_via": True}, "declared_via"),
        ({"goods": []}, "goods"),
        ({"goods": ["x"] * 51}, "goods"),
        ({"goods": [""]}, "goods"),
        ({"goods": ["x" * 201]}, "goods"),
        ({"goods": [5]}, "goods"),
        ({"goods": ["wine\x00"]}, "goods"),
        ({"goods": "wine"}, "goods"),
        ({"office": "GB00006"}, "office"),
        ({"office": "G1000060"}, "office"),
        ({"office": 12345678}, "office"),
    ],
)
def test_bad_values_are_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    error = refused(good(**changes))
    assert error.field == field
    assert str(error).startswith(field), str(error)
    assert "\n" not in str(error)


def test_unknown_and_missing_fields_are_named() -> None:
    error = refused(good(name="Jane Doe"))
    assert error.field == "name" and "unknown field" in str(error)
    data = good()
    del data["template"]
    error = refused(data)
    assert error.field == "template" and "missing" in str(error)


@pytest.mark.parametrize("data", [None, [], "record", 5])
def test_anything_but_an_object_is_refused(data: Any) -> None:
    assert refused(data).field == "record"


def test_nan_and_infinity_literals_and_duplicate_keys_are_refused_in_json() -> None:
    for text in ("[NaN]", "[Infinity]", "[-Infinity]", '{"a": 1, "a": 2}', "[1,", b"\xff"):
        with pytest.raises(TravellerInputInvalid):
            loads(text, source="template")
    assert loads("[1e400]", source="template") == [math.inf]  # refused by the model, as not finite
    assert refused(good(template=loads("[1e400]", source="t") * 64)).field == "template"


def test_the_fingerprint_shows_length_and_a_digest_prefix_only() -> None:
    template = [0.1 * i for i in range(64)]
    fp = template_fingerprint(template)
    assert fp["length"] == 64 and len(fp["sha256"]) == 16
    assert template_fingerprint(list(template)) == fp
    assert template_fingerprint([*template[:-1], 0.0]) != fp
