"""The data category of every value in a declaration document, as JSON pointers.

Pure: from the model's JSON schema (its `x-category` tags, inherited downward) to a flat map of
leaf pointer -> category, and the seal plan: which fields a version keeps clear, and which it seals
together, one group per (party, category).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from clearguard.categories import DataCategory
from clearguard.declaration_model import PERSON_PARTIES, H1Declaration, H7Declaration

JsonDoc = dict[str, Any]


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer(*tokens: str | int) -> str:
    return "".join("/" + (escape(t) if isinstance(t, str) else str(t)) for t in tokens)


@cache
def _schema(declaration_type: str) -> JsonDoc:
    model = {"H1": H1Declaration, "H7": H7Declaration}[declaration_type]
    schema: JsonDoc = TypeAdapter(model).json_schema()  # type: ignore[arg-type,unused-ignore]
    return schema


def _resolve(schema: JsonDoc, root: JsonDoc) -> JsonDoc:
    while True:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            merged = dict(root["$defs"][name])
            if "x-category" in schema:
                merged.setdefault("x-category", schema["x-category"])
            schema = merged
            continue
        options = schema.get("anyOf")
        if options:
            non_null = [o for o in options if o.get("type") != "null"]
            if len(non_null) == 1:
                inner = dict(non_null[0])
                if "x-category" in schema:
                    inner.setdefault("x-category", schema["x-category"])
                schema = inner
                continue
        return schema


def category_at(declaration_type: str, path: tuple[str | int, ...]) -> DataCategory:
    """Category of the value at `path` (a tuple of keys and indexes); default trade."""
    root = _schema(declaration_type)
    node = _resolve(root, root)
    category = DataCategory.TRADE
    for token in path:
        if isinstance(token, int):
            node = _resolve(
                dict(node.get("items", {}), **({"x-category": node["x-category"]} if "x-category" in node else {})),
                root,
            )
        else:
            child = node.get("properties", {}).get(token, {})
            inherited = {"x-category": node["x-category"]} if "x-category" in node else {}
            node = _resolve({**inherited, **child}, root)
        if "x-category" in node:
            category = DataCategory(node["x-category"])
    return category


def leaves(doc: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every scalar in a JSON document with its path."""
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from leaves(value, (*path, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from leaves(value, (*path, index))
    else:
        yield path, doc


@cache
def category_for_shape(declaration_type: str, shape: tuple[str | int, ...]) -> DataCategory:
    """Category at a path whose list indexes are all 0 (every element of a list shares one)."""
    return category_at(declaration_type, shape)


def categorise(declaration_type: str, doc: JsonDoc) -> Iterator[tuple[tuple[str | int, ...], Any, DataCategory]]:
    """(path, value, category) for every non-null scalar; array indexes share one category."""
    for path, value in leaves(doc):
        if value is None:
            continue
        shape = tuple(0 if isinstance(t, int) else t for t in path)
        yield path, value, category_for_shape(declaration_type, shape)


@dataclass(frozen=True, slots=True)
class ListPlan:
    item: Plan


Plan = dict[str, "Plan"] | ListPlan | DataCategory


def _build_plan(node: JsonDoc, root: JsonDoc, inherited: DataCategory) -> Plan:
    node = _resolve(node, root)
    category = DataCategory(node["x-category"]) if "x-category" in node else inherited
    if "properties" in node:
        return {key: _build_plan(child, root, category) for key, child in node["properties"].items()}
    if node.get("type") == "array":
        return ListPlan(_build_plan(node.get("items", {}), root, category))
    return category


@cache
def plan(declaration_type: str) -> Plan:
    """The category of every field of a declaration type, as a tree shaped like the document."""
    root = _schema(declaration_type)
    return _build_plan(root, root, DataCategory.TRADE)


CLEAR, SEALED, MIXED = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Node:
    """A compiled plan node: what a split does with the subtree here, decided once per type.

    CLEAR: nothing protected beneath, kept as it is. SEALED: every value beneath is protected and of
    one category, sealed as one value. MIXED: walked key by key (or item by item)."""

    summary: int
    category: DataCategory
    children: dict[str, tuple[str, Node]]  # key -> (escaped pointer segment, node)
    item: Node | None


def _compile(node_plan: Plan) -> Node:
    if isinstance(node_plan, DataCategory):
        return Node(SEALED if node_plan.protected else CLEAR, node_plan, {}, None)
    if isinstance(node_plan, ListPlan):
        item = _compile(node_plan.item)
        return Node(item.summary, item.category, {}, item)
    children = {key: ("/" + escape(key), _compile(child)) for key, child in node_plan.items()}
    summaries = {child.summary for _seg, child in children.values()}
    categories = {child.category for _seg, child in children.values()}
    if summaries == {CLEAR}:
        return Node(CLEAR, DataCategory.TRADE, children, None)
    if summaries == {SEALED} and len(categories) == 1:
        return Node(SEALED, categories.pop(), children, None)
    return Node(MIXED, DataCategory.TRADE, children, None)


@cache
def compiled(declaration_type: str) -> Node:
    return _compile(plan(declaration_type))


# A pydantic include/exclude specification: field -> True (the whole value) or a nested spec; a
# list's items are under "__all__".
Spec = dict[str, Any]


def _spec(node_plan: Plan, wanted: frozenset[DataCategory]) -> Spec | bool | None:
    if isinstance(node_plan, DataCategory):
        return True if node_plan in wanted else None
    if isinstance(node_plan, ListPlan):
        item = _spec(node_plan.item, wanted)
        return None if item is None else {"__all__": item}
    found = {key: sub for key, child in node_plan.items() if (sub := _spec(child, wanted)) is not None}
    if not found:
        return None
    if len(found) == len(node_plan) and all(sub is True for sub in found.values()):
        return True  # the whole subtree: one value, no walk beneath
    return found


@dataclass(frozen=True, slots=True)
class SealGroup:
    """Protected values sealed together: one category, under one party's data key.

    `part` is a natural person's top-level field (sealed under that person's own key), or "" for
    everything else (the declarant's key). Reading reveals or withholds whole categories, so a group
    is the smallest unit a response ever decrypts."""

    name: str  # "<category>:<part>": the stored key and the field bound into the ciphertext
    part: str
    category: DataCategory
    include: Spec


@dataclass(frozen=True, slots=True)
class SealPlan:
    exclude: Spec  # every protected field: what the clear part leaves out
    groups: tuple[SealGroup, ...]


@cache
def seal_plan(declaration_type: str) -> SealPlan:
    full = plan(declaration_type)
    assert isinstance(full, dict)
    protected = frozenset(c for c in DataCategory if c.protected)
    exclude = _spec(full, protected)
    if not isinstance(exclude, dict):
        raise ValueError(f"{declaration_type}: a declaration type has both clear and protected fields")
    persons = PERSON_PARTIES[declaration_type]
    groups: list[SealGroup] = []
    for category in sorted(protected, key=lambda c: c.value):
        for part in ["", *sorted(persons)]:
            scope: Plan = {part: full[part]} if part else {k: v for k, v in full.items() if k not in persons}
            include = _spec(scope, frozenset({category}))
            if isinstance(include, dict):
                groups.append(SealGroup(f"{category.value}:{part}", part, category, include))
            elif include is True:  # a scope wholly of one category: include every key of it
                assert isinstance(scope, dict)
                groups.append(SealGroup(f"{category.value}:{part}", part, category, dict.fromkeys(scope, True)))
    return SealPlan(exclude, tuple(groups))
