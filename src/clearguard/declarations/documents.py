"""Splitting a declaration document into its clear and protected parts, and putting it back.

Pure. The clear part keeps code and trade values; protected values (confidential, personal,
biometric) leave it and are sealed one by one. Dict keys are removed; list slots keep a null so
indexes (and so the JSON pointers) stay stable.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from typing import Any

import orjson

from clearguard.categories import DataCategory
from clearguard.declarations.categorised import CLEAR, MIXED, SEALED, Node, compiled

Path = tuple[str | int, ...]


def canonical_json(doc: Any) -> bytes:
    """One byte string per document: sorted keys, no whitespace, UTF-8 (as RFC 8785 for our values:
    strings, integers, booleans; amounts are decimal strings, never floats)."""
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def parse_pointer(ptr: str) -> Path:
    tokens: list[str | int] = []
    for raw in ptr.split("/")[1:]:
        token = raw.replace("~1", "/").replace("~0", "~")
        tokens.append(int(token) if token.isdigit() else token)
    return tuple(tokens)


def split(
    declaration_type: str, doc: dict[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, Path, Any, DataCategory]]]:
    """(clear document, [(pointer, path, value, category)] of the protected values).

    Walks only the mixed parts of the document (see categorised.Node): a subtree with nothing
    protected is kept as it is, and one wholly protected under one category is sealed as one value.
    This runs for every lodged declaration, so it is on the hot path."""
    protected: list[tuple[str, Path, Any, DataCategory]] = []
    root = compiled(declaration_type)
    if root.summary != MIXED:
        raise ValueError(f"{declaration_type}: a declaration type has both clear and protected fields")
    clear = _clear(doc, root, (), "", protected)
    return (clear if isinstance(clear, dict) else {}), protected


_EMPTY: Any = object()


def _clear(node: Any, plan: Node, path: Path, ptr: str, protected: list[tuple[str, Path, Any, DataCategory]]) -> Any:
    if plan.summary == CLEAR or node is None:
        return node
    if plan.summary == SEALED:
        protected.append((ptr, path, node, plan.category))
        return _EMPTY
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        children = plan.children
        for key, value in node.items():
            segment, child = children[key]
            # The two common cases inline: most keys hold a clear value or one protected value.
            if child.summary == CLEAR or value is None:
                out[key] = value
            elif child.summary == SEALED:
                protected.append((ptr + segment, (*path, key), value, child.category))
            else:
                kept = _clear(value, child, (*path, key), ptr + segment, protected)
                if kept is not _EMPTY:
                    out[key] = kept
        return out if out or not path else _EMPTY
    if isinstance(node, list) and plan.item is not None:
        item = plan.item
        kept_items = [_clear(value, item, (*path, i), f"{ptr}/{i}", protected) for i, value in enumerate(node)]
        return [None if kept is _EMPTY else kept for kept in kept_items]
    raise ValueError(f"{ptr or '/'}: document does not match its declaration type")


def put(doc: dict[str, Any], path: Path, value: Any) -> None:
    node: Any = doc
    for token, nxt in itertools.pairwise(path):
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
