"""Splitting a declaration into its clear part and its sealed groups, and putting it back.

Pure. The clear part keeps code and trade values. Protected values (confidential, personal,
biometric) leave it in groups, one per (party, category) as categorised.seal_plan says: each group
is a sparse document of the same shape (lists keep their length, so indexes line up) and is sealed
as one value. Responses reveal or withhold whole categories, so a read decrypts exactly the groups
it returns. The split runs for every lodged declaration, so it is compiled once per type from the
plan (splitter) into straight-line code with the semantics of pydantic's include/exclude, which the
tests compare it with.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

import orjson

from clearguard.categories import DataCategory
from clearguard.crypto.fields import ERASED_TEXT
from clearguard.declaration_model import DeclarationModel
from clearguard.declarations.categorised import SealGroup, Spec, seal_plan
from clearguard.declarations.splitter import Drop, Pick, compile_split

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


def split(model: DeclarationModel) -> tuple[dict[str, Any], list[tuple[SealGroup, dict[str, Any]]]]:
    """(clear document, [(group, its sparse document)]) of a parsed declaration. Every group of the
    type is returned, filled or not, so the stored shape says nothing about which values exist."""
    return split_doc(model.type, model.model_dump(mode="json", exclude_none=True))


def split_doc(
    declaration_type: str, doc: dict[str, Any]
) -> tuple[dict[str, Any], list[tuple[SealGroup, dict[str, Any]]]]:
    """`split` of a declaration already dumped (mode json, no nulls), as lodging holds it: the same
    result as pydantic's include/exclude on the model, by functions compiled from the plan's
    specifications (splitter) instead of serialising the model once per group. The clear part shares
    untouched values with `doc`: both are read-only from here on (serialised, never edited)."""
    drop, picks = _compiled_split(declaration_type)
    return drop(doc), [(group, pick(doc)) for group, pick in picks]


@functools.cache
def _compiled_split(declaration_type: str) -> tuple[Drop, tuple[tuple[SealGroup, Pick], ...]]:
    plan = seal_plan(declaration_type)
    drop, picks = compile_split(plan.exclude, [group.include for group in plan.groups])
    return drop, tuple(zip(plan.groups, picks, strict=True))


def merge(doc: Any, sparse: Any) -> Any:
    """`sparse` laid over `doc` in place: dicts by key, lists by index (a null slot adds nothing)."""
    if isinstance(doc, dict) and isinstance(sparse, dict):
        for key, value in sparse.items():
            doc[key] = merge(doc[key], value) if key in doc else value
        return doc
    if isinstance(doc, list) and isinstance(sparse, list):
        for index, value in enumerate(sparse):
            if index >= len(doc):
                doc.append(value)
            elif value is not None:
                doc[index] = value if doc[index] is None else merge(doc[index], value)
        return doc
    return sparse


def mark_erased(doc: Any, include: Spec) -> None:
    """Each field a group of an erased party can hold, beneath parts the clear document shows,
    reads as erased: the values are gone, and so is the knowledge of which of them were there."""
    if isinstance(doc, list):
        for item in doc:
            if item is not None:
                mark_erased(item, include)
        return
    if not isinstance(doc, dict):
        return
    for key, sub in include.items():
        inner = sub["__all__"] if isinstance(sub, dict) and "__all__" in sub else sub
        if inner is True:
            doc[key] = ERASED_TEXT
        elif key in doc:
            mark_erased(doc[key], inner)


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
    declaration_type: str,
    clear: dict[str, Any],
    protected: dict[str, list[Any]],
    reveal: Callable[[str, DataCategory], bool],
    open_values: Callable[[list[tuple[str, list[Any]]]], list[Any]],
) -> dict[str, Any]:
    """The document with every sealed group the caller may see opened and laid over the clear part;
    the others left out. `open_values` gets the (name, stored entry) of every group to open, all in
    one call, and returns each one's sparse document, or ERASED_TEXT."""
    doc: dict[str, Any] = orjson.loads(orjson.dumps(clear))  # a deep copy, several times copy.deepcopy
    groups = {group.name: group for group in seal_plan(declaration_type).groups}
    shown = [(name, entry) for name, entry in protected.items() if reveal(name, DataCategory(entry[0]))]
    for (name, _entry), value in zip(shown, open_values(shown) if shown else [], strict=True):
        if name.startswith("/"):
            put(doc, parse_pointer(name), value)  # one field sealed alone: versions stored before groups
        elif value == ERASED_TEXT:
            mark_erased(doc, groups[name].include)
        else:
            merge(doc, value)
    return doc
