"""Splitting a declaration document into its clear and protected parts, and putting it back.

Pure. The clear part keeps code and trade values; protected values (confidential, personal,
biometric) leave it and are sealed one by one. Dict keys are removed; list slots keep a null so
indexes (and so the JSON pointers) stay stable.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from clearguard.categories import DataCategory
from clearguard.declarations.categorised import categorise, pointer

Path = tuple[str | int, ...]


def canonical_json(doc: Any) -> bytes:
    """One byte string per document: sorted keys, no whitespace, UTF-8."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def parse_pointer(ptr: str) -> Path:
    tokens: list[str | int] = []
    for raw in ptr.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        tokens.append(int(token) if token.isdigit() else token)
    return tuple(tokens)


def split(declaration_type: str, doc: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, Path, Any, DataCategory]]]:
    """(clear document, [(pointer, path, value, category)] of the protected values)."""
    clear = copy.deepcopy(doc)
    protected: list[tuple[str, Path, Any, DataCategory]] = []
    for path, value, category in categorise(declaration_type, doc):
        if category.protected:
            protected.append((pointer(*path), path, value, category))
            _remove(clear, path)
    _prune(clear)
    return clear, protected


def _remove(doc: Any, path: Path) -> None:
    parent = doc
    for token in path[:-1]:
        parent = parent[token]
    last = path[-1]
    if isinstance(parent, list):
        parent[last] = None  # type: ignore[index]
    else:
        del parent[last]


def _prune(doc: Any) -> None:
    """Drop objects left empty by the split (a party whose every field is protected)."""
    if isinstance(doc, dict):
        for key in list(doc):
            _prune(doc[key])
            if doc[key] == {}:
                del doc[key]
    elif isinstance(doc, list):
        for item in doc:
            _prune(item)


def put(doc: dict[str, Any], path: Path, value: Any) -> None:
    node: Any = doc
    for token, nxt in zip(path[:-1], path[1:], strict=True):
        if isinstance(node, list):
            assert isinstance(token, int)
            while len(node) <= token:
                node.append(None)
            if node[token] is None:
                node[token] = [] if isinstance(nxt, int) else {}
            node = node[token]
        else:
            if token not in node or node[token] is None:
                node[token] = [] if isinstance(nxt, int) else {}
            node = node[token]
    last = path[-1]
    if isinstance(node, list):
        assert isinstance(last, int)
        while len(node) <= last:
            node.append(None)
        node[last] = value
    else:
        node[last] = value


def join(
    clear: dict[str, Any],
    protected: dict[str, list[Any]],
    reveal: Callable[[str, DataCategory], bool],
    open_value: Callable[[str, list[Any]], Any],
) -> dict[str, Any]:
    """The document with every protected value the caller may see opened; the others left out."""
    doc = copy.deepcopy(clear)
    for ptr, entry in protected.items():
        category = DataCategory(entry[0])
        if reveal(ptr, category):
            put(doc, parse_pointer(ptr), open_value(ptr, entry))
    return doc
