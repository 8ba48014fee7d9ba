"""Detection's input files (the activity event lines of `detection scan|simulate|evaluate`, the
evaluation's labels), given odd bytes and odd structures: DetectionInputError, nothing else."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from clearguard.detection.errors import DetectionInputError
from clearguard.detection.evaluate import parse_labels
from clearguard.detection.events import parse_event
from tests.fuzz.odd import FUZZ, odd_bytes, odd_text, refused_or_read, restructured

EVENT = {
    "at": "2026-12-06T09:00:00Z",
    "kind": "login.failure",
    "actor": "alice",
    "source": "203.0.113.7",
}
LABELS = [{"scenario": "brute_force", "actor": "alice", "start": "2026-12-06T09:00:00Z", "end": "2026-12-06T10:00:00Z"}]


@FUZZ
@given(
    line=st.one_of(odd_bytes([json.dumps(EVENT).encode()]), restructured([EVENT]).map(lambda d: json.dumps(d).encode()))
)
def test_event_lines(line: bytes) -> None:
    refused_or_read(lambda: parse_event(line, 1), DetectionInputError)


@FUZZ
@given(text=st.one_of(odd_text([json.dumps(LABELS).encode()]), restructured([LABELS]).map(json.dumps)))
def test_labels(text: str) -> None:
    refused_or_read(lambda: parse_labels(text), DetectionInputError)


def test_huge_numbers_and_deep_nesting_are_detection_input_errors() -> None:
    """Defect found: a 5,000-digit number escaped both readers as ValueError, deep nesting the
    labels reader as RecursionError."""
    for raw in ('{"at": ' + "9" * 5000 + "}", "[" * 100_000):
        assert refused_or_read(lambda: parse_event(raw, 1), DetectionInputError) is None
        assert refused_or_read(lambda: parse_labels(raw), DetectionInputError) is None
