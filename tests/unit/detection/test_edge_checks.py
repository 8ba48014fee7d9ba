"""The edge's payload checks (pure): attacks refused naming the field and the rule, ordinary trade
text passed, encodings (percent, double percent, overlong UTF-8, JSON escapes) seen through."""

from __future__ import annotations

import json

import pytest

from clearguard.detection.edge import check_json, check_path, check_query, check_text, edge_action
from tests.helpers import EXAMPLES

ATTACKS = [
    ("admin' OR '1'='1", "injection"),
    ("x' or 1=1--", "injection"),
    ("1' AND SLEEP(5)#", "injection"),
    ("a'; DROP TABLE users; --", "injection"),
    ("1 UNION ALL SELECT username, password_hash FROM identity_accounts", "injection"),
    ("1 union/**/select null", "injection"),
    ("'; exec xp_cmdshell 'dir'", "injection"),
    ("x' AND extractvalue(1, concat(0x7e, version()))", "injection"),
    ("1; WAITFOR DELAY '0:0:5'", "injection"),
    ("' || pg_sleep(10) --", "injection"),
    ("select * from accounts where name = 'a'", "injection"),
    ("<script>alert(1)</script>", "markup"),
    ("<ScRiPt src=//evil.example/x.js>", "markup"),
    ("<img src=x onerror=alert(1)>", "markup"),
    ('<a href="#" onclick="steal()">', "markup"),
    ("javascript:alert(document.domain)", "markup"),
    ("<svg/onload=alert(1)>", "markup"),
    ("data:text/html;base64,PHNjcmlwdD4=", "markup"),
    ("shoes\x00", "nul"),
]
TRADE_TEXT = [
    'Men\'s leather shoes & boots, "Deluxe" range',
    "O'Brien & Sons Ltd; O'Neill -- size 3/4",
    'Pipes 12" -- galvanised, 3/4" fittings',
    "Fragile; do not stack -- handle with care",
    "Tom & Jerry's 'best' biscuits; 50% cocoa <10mm> pieces",
    "Select grade rice from Thailand where moisture < 14%",
    "Widgets (type A) or B > 3mm; union of two parts",
    'Café crème "Spécial" 1=1 box; L\'Oréal',
    "Description: drop-forged tools; update kit included",
    "Sleep masks (silk), 'Benchmark' brand",
    "Mesh <5 mm> / 2 ... 3 items",
]


@pytest.mark.parametrize(("value", "rule"), ATTACKS)
def test_attacks_are_refused(value: str, rule: str) -> None:
    found = check_text("items[0].description", value)
    assert found is not None and found.rule == rule and found.field == "items[0].description"
    body = json.dumps({"items": [{"description": value}]}).encode()
    assert check_json(body) == found  # escaped in JSON (\u0000, \") and found all the same


@pytest.mark.parametrize("value", TRADE_TEXT)
def test_trade_text_passes(value: str) -> None:
    assert check_text("description", value) is None
    assert check_json(json.dumps({"description": value, "other": value}).encode()) is None
    assert check_json(json.dumps({"description": value}, ensure_ascii=False).encode()) is None


def test_the_shipped_examples_pass() -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        assert check_json(path.read_bytes()) is None, path.name


def test_the_field_is_named_by_its_path() -> None:
    doc = {"seller": {"name": "ok"}, "items": [{"description": "ok"}, {"description": "<script>"}]}
    found = check_json(json.dumps(doc).encode())
    assert found is not None and found.field == "items[1].description" and found.detail.startswith(found.field)
    assert check_json(json.dumps({"<script>": 1}).encode()).field == "<script>"  # type: ignore[union-attr]


def test_malformed_and_oversized_bodies() -> None:
    assert check_json(b"{").rule == "malformed"  # type: ignore[union-attr]
    assert check_json(b'{"a": "\xff"}').rule == "encoding"  # type: ignore[union-attr]
    assert check_json('{"a": "x"}'.encode("utf-16-le")).rule == "encoding"  # type: ignore[union-attr]
    assert check_json(b'\xef\xbb\xbf{"a": "x"}').rule == "encoding"  # type: ignore[union-attr]
    assert check_json(b'{"a": NaN}') is None  # the route's validation names it
    deep = b"[" * 40 + b"]" * 40
    assert check_json(deep).rule == "oversized"  # type: ignore[union-attr]
    assert check_json(json.dumps({"d": "x" * 200_000}).encode()).field == "d"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        (b"/api/v1/declarations/../../etc/passwd", "traversal"),
        (b"/api/v1/declarations/..%2f..%2fetc", "traversal"),
        (b"/api/v1/declarations/%2e%2e/x", "traversal"),
        (b"/api/v1/declarations/%252e%252e%252f", "traversal"),
        (b"/api/v1/declarations/%c0%ae%c0%ae/x", "traversal"),
        (b"/api/v1/declarations/..\\..\\x", "traversal"),
        (b"/api/v1/declarations/x%00", "nul"),
        (b"/api/v1/declarations/%ff", "malformed"),
        (b"/api/v1/" + b"a" * 17000, "oversized"),
        (b"/api/v1/declarations/%3Cscript%3E", "markup"),
    ],
)
def test_paths(raw: bytes, rule: str) -> None:
    found = check_path(raw)
    assert found is not None and found.rule == rule and found.field == "path"


def test_ordinary_paths_and_queries_pass() -> None:
    assert check_path(b"/api/v1/declarations/26GB4TQZ1K8LJX2Y07") is None
    assert check_path(b"/ledger/tile/0/x001/234") is None
    assert check_query(b"party=GB123456789000&name=O%27Brien%20%26%20Sons&since=2026-01-01&limit=50") is None
    assert check_query(b"name=Caf%C3%A9+Cr%C3%A8me") is None


@pytest.mark.parametrize(
    ("query", "field", "rule"),
    [
        (b"name=x%27%20OR%20%271%27%3D%271", "query.name", "injection"),
        (b"file=..%252f..%252fetc", "query.file", "traversal"),
        (b"file=../../etc/passwd", "query.file", "traversal"),
        (b"n=%ff", "query.n", "malformed"),
        (b"n=a%2500", "query.n", "nul"),
        (b"q=%3Cscript%3E", "query.q", "markup"),
    ],
)
def test_queries(query: bytes, field: str, rule: str) -> None:
    found = check_query(query)
    assert found is not None and (found.field, found.rule) == (field, rule)


def test_edge_actions() -> None:
    assert edge_action("POST", "/api/v1/auth/login") == "auth.login"
    assert edge_action("POST", "/api/v1/auth/mfa/totp") == "auth.mfa"
    assert edge_action("POST", "/api/v1/auth/refresh") == "auth.refresh"
    assert edge_action("POST", "/api/v1/declarations") == "declaration.lodge"
    assert edge_action("POST", "/api/v1/declarations/X/amendments") == "declaration.amend"
    assert edge_action("POST", "/api/v1/declarations/X/decisions") == "declaration.decide"
    assert edge_action("GET", "/api/v1/declarations") == "declaration.list"
    assert edge_action("GET", "/api/v1/declarations/X") == "declaration.read"
    assert edge_action("GET", "/etc/passwd") == "declaration.read"
