"""Splitting a declaration document into its clear and protected parts, and putting it back.

Pure. The clear part keeps code and trade values; protected values (confidential, personal,
biometric) leave it and are sealed one by one. Dict keys are removed; list slots keep a null so
indexes (and so the JSON pointers) stay stable.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from typing import Any

from clearguard.categories import DataCategory
from clearguard.declarations.categorised import ListPlan, Plan, escape, plan

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


def split(
    declaration_type: str, doc: dict[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, Path, Any, DataCategory]]]:
    """(clear document, [(pointer, path, value, category)] of the protected values).

    Walks the document against the type's category plan, building the clear part as it goes: this
    runs for every lodged declaration, so it is on the hot path."""
    protected: list[tuple[str, Path, Any, DataCategory]] = []
    clear = _clear(doc, plan(declaration_type), (), "", protected)
    return (clear if isinstance(clear, dict) else {}), protected


_EMPTY: Any = object()


def _clear(
    node: Any, node_plan: Plan, path: Path, ptr: str, protected: list[tuple[str, Path, Any, DataCategory]]
) -> Any:
    if isinstance(node, dict):
        if not isinstance(node_plan, dict):
            raise ValueError(f"{ptr or '/'}: document does not match its declaration type")
        out: dict[str, Any] = {}
        for key, value in node.items():
            kept = _clear(value, node_plan[key], (*path, key), f"{ptr}/{escape(key)}", protected)
            if kept is not _EMPTY:
                out[key] = kept
        return out if out or not path else _EMPTY
    if isinstance(node, list):
        if not isinstance(node_plan, ListPlan):
            raise ValueError(f"{ptr or '/'}: document does not match its declaration type")
        items = [_clear(value, node_plan.item, (*path, i), f"{ptr}/{i}", protected) for i, value in enumerate(node)]
        return [None if item is _EMPTY else item for item in items]
    if node is None:
        return None
    category = node_plan if isinstance(node_plan, DataCategory) else DataCategory.TRADE
    if category.protected:
        protected.append((ptr, path, node, category))
        return _EMPTY
    return node


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
