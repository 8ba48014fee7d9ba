"""Goods lists: prohibited goods, and restricted goods that need a document, by HS prefix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from pydantic import Field

from clearguard.compliance.checks.base import Context, Evaluator, Hit, Params, or_list, register
from clearguard.compliance.reference import ReferenceData

HS_PREFIX = r"^[0-9]{2,10}$"
DOCUMENT_CODE = r"^[A-Z0-9]{4}$"


class ListedGoods(Params):
    hs_prefix: str = Field(pattern=HS_PREFIX)
    name: str = Field(min_length=1)


class RestrictedGoods(ListedGoods):
    documents: list[Annotated[str, Field(pattern=DOCUMENT_CODE)]] = Field(min_length=1)  # any one suffices


class PrefixTable:
    """Finds the listed entries a commodity code falls under, one dict lookup per prefix length."""

    def __init__(self, entries: list[ListedGoods]) -> None:
        self._by_prefix: dict[str, list[ListedGoods]] = {}
        for entry in entries:
            self._by_prefix.setdefault(entry.hs_prefix, []).append(entry)
        self._lengths = sorted({len(prefix) for prefix in self._by_prefix})

    def matches(self, code: str) -> Iterator[ListedGoods]:
        by_prefix = self._by_prefix
        for length in self._lengths:
            if length > len(code):
                break
            found = by_prefix.get(code[:length])
            if found is not None:
                yield from found


class ProhibitedParams(Params):
    goods: list[ListedGoods] = Field(default_factory=list)


@register("prohibited_goods", ProhibitedParams, ["value", "prefix", "goods"])
def prohibited_goods(params: ProhibitedParams, ref: ReferenceData) -> Evaluator:
    """No item's commodity code falls under a prohibited HS prefix."""
    table = PrefixTable(list(params.goods))

    def run(ctx: Context) -> Iterator[Hit]:
        for index, item in enumerate(ctx.items):
            for entry in table.matches(item.commodity_code):
                yield (
                    f"/items/{index}/commodity_code",
                    {"value": item.commodity_code, "prefix": entry.hs_prefix, "goods": entry.name},
                )
                break  # one finding per item: the first listing already refuses it

    return run


class RestrictedParams(Params):
    goods: list[RestrictedGoods] = Field(default_factory=list)


@register("restricted_goods", RestrictedParams, ["value", "prefix", "goods", "documents"])
def restricted_goods(params: RestrictedParams, ref: ReferenceData) -> Evaluator:
    """An item under a restricted HS prefix carries one of the documents its listing requires."""
    table = PrefixTable(list(params.goods))
    required = {id(entry): frozenset(entry.documents) for entry in params.goods}
    wording = {id(entry): or_list(entry.documents) for entry in params.goods}

    def run(ctx: Context) -> Iterator[Hit]:
        for index, item in enumerate(ctx.items):
            present: frozenset[str] | None = None
            for entry in table.matches(item.commodity_code):
                if present is None:
                    present = frozenset(document.code for document in item.documents)
                if present.isdisjoint(required[id(entry)]):
                    yield (
                        f"/items/{index}/documents",
                        {
                            "value": item.commodity_code,
                            "prefix": entry.hs_prefix,
                            "goods": entry.name,
                            "documents": wording[id(entry)],
                        },
                    )

    return run
