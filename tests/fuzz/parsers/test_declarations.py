"""Declarations: the JSON reader (API bodies, `declarations lodge FILE`), the model (pydantic,
strict) and the bulk import's line reader, given odd bytes: InputError or findings, nothing else."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from clearguard.declarations.files import read_json_lines
from clearguard.declarations.parse import parse_json, to_model
from clearguard.errors import ClearGuardError, InputError
from tests.fuzz.odd import FUZZ, odd_bytes, odd_text, refused_or_read, restructured
from tests.helpers import EXAMPLES

SAMPLES = [path.read_bytes() for path in sorted(EXAMPLES.glob("*.json"))]
LIMIT = 200_000


def test_the_samples_are_declarations() -> None:
    assert SAMPLES and all(not isinstance(to_model(parse_json(s, max_bytes=LIMIT)), list) for s in SAMPLES)


@FUZZ
@given(raw=odd_bytes(SAMPLES))
def test_bytes_give_a_document_or_input_error(raw: bytes) -> None:
    doc = refused_or_read(lambda: parse_json(raw, max_bytes=LIMIT), InputError)
    if doc is not None:
        assert isinstance(doc, dict)
        to_model(doc)  # a model or a list of findings; never raises


@FUZZ
@given(text=odd_text(SAMPLES))
def test_text_gives_a_document_or_input_error(text: str) -> None:
    refused_or_read(lambda: parse_json(text, max_bytes=LIMIT), InputError)


@FUZZ
@given(doc=restructured([json.loads(sample) for sample in SAMPLES]))
def test_any_value_in_any_field_gives_a_model_or_findings(doc: Any) -> None:
    result = to_model(doc) if isinstance(doc, dict) else []
    if isinstance(result, list):
        assert all(f.message for f in result)


@FUZZ
@given(lines=st.lists(odd_bytes(SAMPLES).map(lambda b: b.replace(b"\n", b" ")), max_size=5))
def test_import_lines_each_give_a_document_or_their_error(lines: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "batch.jsonl"
        path.write_bytes(b"\n".join(lines))
        read = list(read_json_lines(path, max_line_bytes=LIMIT))
    numbers = [n for n, _ in read]
    assert numbers == sorted(set(numbers))  # every line once, in order
    assert len(read) == sum(1 for line in lines if line.strip())  # no line dropped
    for _, item in read:
        assert isinstance(item, dict | ClearGuardError)


# Defects the fuzzing found, kept as regression tests.


def test_an_integer_of_5000_digits_is_an_input_error_not_a_value_error() -> None:
    raw = b'{"lrn": ' + b"9" * 5000 + b"}"
    assert refused_or_read(lambda: parse_json(raw, max_bytes=LIMIT), InputError) is None


def test_a_float_that_overflows_to_infinity_is_refused_like_the_infinity_literal() -> None:
    for raw in (b'{"x": 1e999}', b'{"x": -1e400}'):
        assert refused_or_read(lambda: parse_json(raw, max_bytes=LIMIT), InputError) is None
