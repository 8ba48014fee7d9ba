"""Intrusion checks at the API edge (pure): injection and traversal payloads, NUL bytes, markup where
none can belong, oversized and malformed requests. Each refusal names the field and the rule.

The patterns are written to refuse attacks, not text: apostrophes, quotes, ampersands, `--` and
`;` in a goods description are ordinary, so an SQL pattern needs SQL around them (a tautology after
a quote, UNION SELECT, a stacked statement, a timing function). Values are checked as received and
percent-decoded (twice, for double encoding) where they come from a URL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote, unquote_to_bytes

import orjson

MAX_PATH: Final = 16384  # uvicorn's (h11's) own bound on a request head
MAX_QUERY: Final = 16384
MAX_DEPTH: Final = 32
MAX_STRING: Final = 100_000
MAX_STRINGS: Final = 50_000

# Each family is searched only when the text holds what it needs (a quote, a `;`, a keyword, a `<`):
# plain substring tests are far cheaper than an alternation tried at every position.
_SQL_QUOTE: Final = re.compile(
    r"""['"`]\s*(?:
        (?:or|and|\|\||&&)\s*['"`(]?\w+['"`)]?\s*(?:=|<>|!=|\blike\b)   # ' OR '1'='1
      | (?:--|\#|/\*)\s*(?:$|\x1f)                                   # a quote, then a comment to the end
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_SQL_STACKED: Final = re.compile(
    r""";\s*(?:drop\s+(?:table|database|schema|index|view|user)\b|delete\s+from\b|truncate\s+(?:table\s+)?\w
      | alter\s+(?:table|user|database|role)\b|insert\s+into\b|update\s+[\w.]+\s+set\b
      | create\s+(?:table|user|database|function|role)\b|exec(?:ute)?\s+\w+|shutdown\b|grant\s+\w+\s+(?:on|to)\b)""",
    re.IGNORECASE | re.VERBOSE,
)
_SQL_KEYWORDS: Final = ("union", "select", "sleep", "benchmark", "waitfor", "dbms_pipe", "extractvalue",
                        "updatexml", "information_schema", "pg_catalog", "sqlite_master", "xp_cmdshell",
                        "load_file", "outfile")  # fmt: skip
_SQL_WORDS: Final = re.compile(
    r"""\bunion\b(?:\s|/\*.*?\*/|\(|\+)+(?:all\s+|distinct\s+)?select\b                 # UNION SELECT
      | (?:\band|\bor|\bselect|\|\||[;'"(,=])\s*(?:sleep|pg_sleep|benchmark|extractvalue|updatexml)\s*\(
      | \bwaitfor\s+delay\s+['"] | \bdbms_pipe\.receive_message\s*\(
      | \b(?:information_schema|pg_catalog|sqlite_master|xp_cmdshell|load_file|into\s+outfile)\b
      | \bselect\s+(?:\*|[\w.]+(?:\s*,\s*[\w.]+)*)\s+from\s+[\w.]+\s+where\b          # a query in a value
    """,
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_MARKUP_TAG: Final = re.compile(
    r"<\s*/?\s*(?:script|iframe|object|embed|svg|img|body|style|link|meta|base|form|math)\b|<[^>]*\son[a-z]+\s*=",
    re.IGNORECASE,
)
_MARKUP_WORDS: Final = re.compile(r"\b(?:javascript|vbscript)\s*:|\bdata\s*:\s*text/html", re.IGNORECASE)


def _sql(text: str, lower: str) -> bool:
    if ("'" in text or '"' in text or "`" in text) and _SQL_QUOTE.search(text):
        return True
    if ";" in text and _SQL_STACKED.search(text):
        return True
    return any(k in lower for k in _SQL_KEYWORDS) and _SQL_WORDS.search(text) is not None


def _markup(text: str, lower: str) -> bool:
    if "<" in text and _MARKUP_TAG.search(text):
        return True
    # ("script" alone is in every "description")
    return ("javascript" in lower or "vbscript" in lower or "text/html" in lower) and _MARKUP_WORDS.search(
        text
    ) is not None


_TRAVERSAL: Final = re.compile(r"(?:^|[/\\])\.\.(?:[/\\]|$)")
# Encoded dot-dot-slash forms that survive one decoding (overlong UTF-8 included).
_ENCODED_TRAVERSAL: Final = re.compile(r"%(?:25)*2e|%c0%ae|%c0%af|%c1%9c|%e0%80%ae|%u002e", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Refusal:
    field: str
    rule: str  # injection | traversal | nul | markup | oversized | malformed | encoding
    status: int = 400

    @property
    def detail(self) -> str:
        return f"{self.field}: {_RULES[self.rule]}"


_RULES: Final = {
    "injection": "looks like SQL injection",
    "traversal": "path traversal is not allowed",
    "nul": "NUL bytes are not allowed",
    "markup": "markup or script cannot appear here",
    "oversized": "too large",
    "malformed": "malformed (not valid UTF-8, percent-encoding or JSON)",
    "encoding": "must be UTF-8 without a byte order mark (RFC 8259 section 8.1)",
}


def check_text(field: str, value: str, *, url: bool = False) -> Refusal | None:
    """A value as the application will read it; `url`: it came percent-encoded in a URL."""
    if "\x00" in value:
        return Refusal(field, "nul")
    if url:
        if _ENCODED_TRAVERSAL.search(value):
            return Refusal(field, "traversal")
        try:
            decoded = unquote(unquote(value, errors="strict"), errors="strict")
        except UnicodeDecodeError:
            return Refusal(field, "malformed")
        if "\x00" in decoded:
            return Refusal(field, "nul")
        if _TRAVERSAL.search(decoded) or _TRAVERSAL.search(value):
            return Refusal(field, "traversal")
        value = decoded
    lower = value.lower()
    if _sql(value, lower):
        return Refusal(field, "injection")
    if _markup(value, lower):
        return Refusal(field, "markup")
    return None


def check_path(raw_path: bytes) -> Refusal | None:
    if len(raw_path) > MAX_PATH:
        return Refusal("path", "oversized", 414)
    if b"\x00" in raw_path or b"%00" in raw_path.lower():
        return Refusal("path", "nul")
    try:
        text = raw_path.decode("ascii")
    except UnicodeDecodeError:
        return Refusal("path", "malformed")
    lowered = text.lower()
    if _ENCODED_TRAVERSAL.search(lowered) or "%2f" in lowered or "%5c" in lowered:
        return Refusal("path", "traversal")
    try:
        unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        return Refusal("path", "malformed")
    decoded = unquote(text)
    if _TRAVERSAL.search(decoded) or "\\" in decoded:
        return Refusal("path", "traversal")
    return check_text("path", decoded)


def check_query(query: bytes) -> Refusal | None:
    if not query:
        return None
    if len(query) > MAX_QUERY:
        return Refusal("query", "oversized", 414)
    try:
        text = query.decode("ascii")
    except UnicodeDecodeError:
        return Refusal("query", "malformed")
    for part in text.split("&"):
        raw_name, _, raw_value = part.partition("=")
        try:
            name = unquote(raw_name.replace("+", " "), errors="strict")
            unquote_to_bytes(raw_value).decode("utf-8")
        except UnicodeDecodeError:
            return Refusal(f"query.{raw_name[:32]}", "malformed")
        field = f"query.{name[:32]}"
        found = check_text(field, name, url=False) or check_text(field, raw_value.replace("+", " "), url=True)
        if found is not None:
            return found
    return None


def _strings(value: Any, where: str, depth: int) -> Iterator[tuple[str, str] | Refusal]:
    if depth > MAX_DEPTH:
        yield Refusal(where or "body", "oversized")
        return
    if isinstance(value, str):
        yield where or "body", value
    elif isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            yield str(path)[:200], str(key)
            yield from _strings(item, path, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{where}[{i}]", depth + 1)


def _all_strings(document: Any) -> list[str] | None:
    """Every key and string value, or None when the nesting is deeper than MAX_DEPTH."""
    found: list[str] = []
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return None
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                found.append(str(key))
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return found


def check_json(body: bytes) -> Refusal | None:
    """A JSON body: every key and string value (the field named by its path, e.g. `items[0].description`).
    All strings are searched at once, joined by a separator no pattern reads across as a value;
    only a body with a hit is walked again, string by string, to name the field (or clear it)."""
    # A reader that guesses the encoding (Python's json takes UTF-16 and UTF-32 and skips a BOM)
    # would see text that the checks below never saw: anything but plain UTF-8 is refused here.
    if body.startswith(b"\xef\xbb\xbf") or json.detect_encoding(body) != "utf-8":
        return Refusal("body", "encoding")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal("body", "encoding")
    if b"\x00" in body:
        return Refusal("body", "nul")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        # NaN, Infinity, lone surrogates: Python's reader takes them, and the route's own
        # validation names the field they are in; only what no reader takes is refused here.
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return Refusal("body", "malformed")
    strings = _all_strings(document)
    if strings is not None and len(strings) <= MAX_STRINGS:
        joined = "\x1f".join(strings)
        if (
            "\x00" not in joined
            and max(map(len, strings), default=0) <= MAX_STRING
            and not _sql(joined, lowered := joined.lower())
            and not _markup(joined, lowered)
        ):
            return None
    for seen, item in enumerate(_strings(document, "", 0), start=1):
        if isinstance(item, Refusal):
            return item
        field, text = item
        if seen > MAX_STRINGS or len(text) > MAX_STRING:
            return Refusal(field, "oversized")
        found = check_text(field, text)
        if found is not None:
            return found
    return None


def check_header(name: str, value: bytes) -> Refusal | None:
    if b"\x00" in value:
        return Refusal(f"header.{name}", "nul")
    return None


def edge_action(method: str, path: str) -> str:
    """The activity a refused request attempted, from its route: a probe of an unknown path is
    recorded as an attempted read (the vocabulary has no other name for it)."""
    if path.startswith("/api/v1/auth/"):
        rest = path[len("/api/v1/auth/") :]
        if rest.startswith("refresh"):
            return "auth.refresh"
        if rest.startswith(("mfa", "step-up", "webauthn")):
            return "auth.mfa"
        return "auth.login"
    if path.startswith("/api/v1/declarations"):
        rest = path[len("/api/v1/declarations") :].strip("/")
        if method == "POST":
            if not rest:
                return "declaration.lodge"
            return "declaration.amend" if rest.endswith("amendments") else "declaration.decide"
        return "declaration.read" if rest else "declaration.list"
    return "declaration.read"
