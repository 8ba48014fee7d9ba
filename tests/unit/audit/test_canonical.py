"""The bytes an audit event's commitment covers: the fast encoding is json.dumps's, byte for byte."""

from __future__ import annotations

import json
from typing import Any

import pytest

from clearguard.audit.service import _as_stored, _canonical, _event_id


def _reference(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _body(text: str, details: Any) -> dict[str, Any]:
    return {
        "event_id": "0" * 32, "at": "2026-03-01T09:00:00.123456+00:00", "actor": text, "role": "officer",
        "action": "declaration.read", "record_type": "declaration", "record_id": None, "party": text,
        "source": "10.0.0.5", "justification": None, "outcome": "ok", "details": details,
    }  # fmt: skip


def test_every_code_point_encodes_as_json_does() -> None:
    for start in range(0, 0x110000, 512):
        text = "".join(chr(c) for c in range(start, start + 512) if not 0xD800 <= c <= 0xDFFF)
        body = _body(text, {text[:3] or "k": text, "n": start})
        assert _canonical(body) == _reference(body)


@pytest.mark.parametrize(
    "details",
    [
        None,
        {},
        {"version": 1, "ok": True, "no": False, "none": None, "big": 2**64 - 1, "neg": -(2**63)},
        {"beyond": 2**70},
        {"price": 0.1, "tiny": 1e-7, "huge": 1e16},
        {"fields": ["goods", {"x": [1, 2.5]}]},
        {"é": "ü", "a": '\u2028\x00\x1f\x7f"\\'},
        {"b": 1, "a": 2, "B": 3, "_": 4},
    ],
)
def test_details_of_every_shape_encode_as_json_does(details: Any) -> None:
    body = _body("officer1", details)
    assert _canonical(body) == _reference(body)


def test_a_float_elsewhere_goes_through_json() -> None:
    body = _body("officer1", None) | {"record_id": 1e16}
    assert _canonical(body) == _reference(body)


def test_details_are_stored_as_json_reads_them_back() -> None:
    for details in ({"version": 1}, {1: "a", "b": (1, 2)}, {"x": {"y": [1.5]}}):
        stored = _as_stored(details)  # type: ignore[arg-type]
        assert stored == json.loads(json.dumps(details))
        assert stored is not details


def test_event_ids_are_version_4_uuids() -> None:
    import uuid

    for raw in (bytes(16), b"\xff" * 16, bytes(range(16))):
        assert _event_id(raw) == uuid.UUID(bytes=raw, version=4).hex
