"""The lodging form of an H1 declaration: its fields named by RFC 6901 JSON pointers, so that each
finding (whose `pointer` names the field it is about) is shown beside the field it concerns.

The form writes the same JSON document an upload would; validation is the service's, never a copy.
Fields left empty are left out of the document (the rules then name what is missing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from clearguard.access.policy import put_path

Kind = Literal["text", "int", "list"]
_INT = re.compile(r"-?\d{1,12}")
MAX_ITEMS = 99


@dataclass(frozen=True, slots=True)
class Field:
    pointer: str  # the field's JSON pointer, also its form name
    label: str
    kind: Kind = "text"
    hint: str | None = None

    @property
    def id(self) -> str:
        return "f" + self.pointer.replace("/", "-")


@dataclass(frozen=True, slots=True)
class Group:
    legend: str
    fields: tuple[Field, ...]


def _address(prefix: str, who: str) -> tuple[Field, ...]:
    return (
        Field(f"{prefix}/address/street", f"{who} street"),
        Field(f"{prefix}/address/city", f"{who} city"),
        Field(f"{prefix}/address/postcode", f"{who} postcode"),
        Field(f"{prefix}/address/country", f"{who} country", hint="ISO 3166 alpha-2, e.g. GB"),
    )


HEADER: tuple[Group, ...] = (
    Group(
        "Declaration",
        (
            Field("/lrn", "Local reference number (LRN)"),
            Field("/office_of_presentation", "Office of presentation", hint="e.g. GB000060"),
            Field("/procedure", "Procedure code", hint="e.g. 4000"),
            Field("/country_of_dispatch", "Country of dispatch"),
            Field("/total_packages", "Total packages", "int"),
            Field("/gross_mass_kg", "Total gross mass (kg)"),
        ),
    ),
    Group(
        "Declarant",
        (
            Field("/declarant/eori", "Declarant EORI"),
            Field("/declarant/name", "Declarant name"),
            *_address("/declarant", "Declarant"),
        ),
    ),
    Group(
        "Importer",
        (
            Field("/importer/eori", "Importer EORI"),
            Field("/importer/name", "Importer name"),
            *_address("/importer", "Importer"),
        ),
    ),
    Group("Exporter", (Field("/exporter/name", "Exporter name"), *_address("/exporter", "Exporter"))),
    Group("Seller", (Field("/seller/name", "Seller name"), *_address("/seller", "Seller"))),
    Group(
        "Delivery, invoice and transport",
        (
            Field("/delivery_terms/incoterm", "Incoterm", hint="e.g. CIF"),
            Field("/delivery_terms/place", "Delivery place"),
            Field("/invoice/currency", "Invoice currency", hint="ISO 4217, e.g. USD"),
            Field("/invoice/amount", "Invoice amount"),
            Field("/invoice/exchange_rate", "Exchange rate"),
            Field("/transport/mode_at_border", "Transport mode at the border", "int"),
            Field("/transport/container_ids", "Container numbers", "list", hint="separated by commas"),
            Field("/transport/nationality_of_means", "Nationality of the means of transport"),
        ),
    ),
)


def item_group(index: int) -> Group:
    n = index + 1
    p = f"/items/{index}"
    return Group(
        f"Item {n}",
        (
            Field(f"{p}/commodity_code", f"Item {n} commodity code", hint="HS code, 6 to 10 digits"),
            Field(f"{p}/description", f"Item {n} description"),
            Field(f"{p}/origin_country", f"Item {n} country of origin"),
            Field(f"{p}/net_mass_kg", f"Item {n} net mass (kg)"),
            Field(f"{p}/gross_mass_kg", f"Item {n} gross mass (kg)"),
            Field(f"{p}/supplementary_units", f"Item {n} supplementary units", "int"),
            Field(f"{p}/item_price", f"Item {n} price"),
            Field(f"{p}/valuation_method", f"Item {n} valuation method", "int"),
            Field(f"{p}/packages/kind", f"Item {n} package kind", hint="e.g. CT"),
            Field(f"{p}/packages/count", f"Item {n} package count", "int"),
            Field(f"{p}/documents/0/code", f"Item {n} document code", hint="e.g. N935"),
            Field(f"{p}/documents/0/reference", f"Item {n} document reference"),
        ),
    )


def groups(items: int) -> list[Group]:
    return [*HEADER, *(item_group(i) for i in range(max(1, min(items, MAX_ITEMS))))]


def fields(items: int) -> Iterable[Field]:
    for group in groups(items):
        yield from group.fields


def _tokens(pointer: str) -> list[str]:
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def _put(doc: dict[str, Any], pointer: str, value: Any) -> None:
    # The form's pointers name array items by number: those tokens are list indexes for put_path.
    put_path(doc, tuple(int(t) if t.isdigit() else t for t in _tokens(pointer)), value)


def _convert(field: Field, raw: str) -> Any:
    if field.kind == "int" and _INT.fullmatch(raw):
        return int(raw)
    if field.kind == "list":
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw  # a number typed wrongly stays text: validation names the field and the rule


def item_count(values: Mapping[str, str]) -> int:
    indices = {int(m.group(1)) for name in values if (m := re.match(r"/items/(\d+)/", name))}
    return max(1, min(MAX_ITEMS, max(indices, default=0) + 1))


def document(values: Mapping[str, str]) -> dict[str, Any]:
    """The H1 document the form's values describe; empty fields are left out, empty items dropped."""
    doc: dict[str, Any] = {"type": "H1"}
    for field in fields(item_count(values)):
        raw = values.get(field.pointer, "").strip()
        if raw:
            _put(doc, field.pointer, _convert(field, raw))
    items = doc.get("items")
    if isinstance(items, list):
        doc["items"] = [i for i in items if i is not None]
    return doc


def value_at(doc: Any, pointer: str) -> str:
    """A document's value at `pointer` as the form shows it ('' when absent)."""
    node = doc
    for token in _tokens(pointer):
        if isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            return ""
    if isinstance(node, list):
        return ", ".join(str(v) for v in node)
    if isinstance(node, dict) or node is None:
        return ""
    return str(node).lower() if isinstance(node, bool) else str(node)


def values_of(doc: Mapping[str, Any]) -> dict[str, str]:
    """The form's values for a document (an upload shown back with its findings, an amendment)."""
    items = doc.get("items")
    count = len(items) if isinstance(items, list) else 1
    return {f.pointer: v for f in fields(count) if (v := value_at(doc, f.pointer))}


def findings_by_field(findings: Iterable[Mapping[str, Any]], items: int) -> tuple[dict[str, list[str]], list[Any]]:
    """(pointer -> messages) for findings on a form field, and the findings on no field of the form."""
    pointers = {f.pointer for f in fields(items)}
    beside: dict[str, list[str]] = {}
    elsewhere: list[Any] = []
    for finding in findings:
        pointer = str(finding.get("pointer", ""))
        if pointer in pointers:
            beside.setdefault(pointer, []).append(str(finding.get("message", "")))
        else:
            elsewhere.append(finding)
    return beside, elsewhere
