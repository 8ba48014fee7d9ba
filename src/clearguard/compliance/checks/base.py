"""What a check is, the registry that names checks for rule packs, and the per-call context.

A check is registered under a name that rule packs refer to (`check: <name>`). Its factory receives
the rule's validated params and the reference data once, when the pack loads, and returns an
evaluator: everything that can be precomputed (sets, prefix tables, decimals) is, so evaluating a
declaration only reads the model and does dictionary and set lookups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from clearguard.compliance.reference import ReferenceData
from clearguard.declaration_model import (
    DeclarationModel,
    H1Declaration,
    H1Item,
    H7Declaration,
    H7Item,
    OptionalEoriParty,
    Trader,
)


class LrnLookup(Protocol):
    def __call__(self, declarant_eori: str, lrn: str, /) -> bool: ...


@dataclass(frozen=True, slots=True)
class Context:
    """One declaration under evaluation, with what several checks derive from it computed once."""

    declaration: DeclarationModel
    h1: H1Declaration | None  # the declaration when it is an H1, so checks need no isinstance
    h7: H7Declaration | None  # the declaration when it is an H7
    items: Sequence[H1Item | H7Item]  # the items, typed for what H1 and H7 items share
    declaring_country: str  # first two letters of the office of presentation
    declaring_currency: str | None  # None when the country has no currency in the table
    lrn_in_use: LrnLookup | None


# A hit: the JSON pointer of the offending field and the values for the rule's message template.
Hit = tuple[str, dict[str, object]]
Evaluator = Callable[[Context], Iterable[Hit]]
NO_HITS: tuple[Hit, ...] = ()


class Params(BaseModel):
    """Base of every check's params: unknown keys are refused so a typo in YAML is not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    pass


P = TypeVar("P", bound=Params)
Factory = Callable[[P, ReferenceData], Evaluator]

# Placeholders every message template may use, whatever the check.
COMMON_PLACEHOLDERS = frozenset({"field", "rule_id", "severity"})


@dataclass(frozen=True, slots=True)
class CheckSpec:
    name: str
    params: type[Params]
    placeholders: frozenset[str]  # what the check puts into its hits, for templates
    factory: Callable[[Any, ReferenceData], Evaluator]
    doc: str


REGISTRY: dict[str, CheckSpec] = {}


def register(name: str, params: type[P], placeholders: Iterable[str]) -> Callable[[Factory[P]], Factory[P]]:
    """Register a check factory under `name`, with its params model and message placeholders."""

    def decorator(factory: Factory[P]) -> Factory[P]:
        if name in REGISTRY:
            raise RuntimeError(f"check {name!r} registered twice")
        summary = next(iter((factory.__doc__ or "").strip().splitlines()), "")
        REGISTRY[name] = CheckSpec(name, params, frozenset(placeholders), factory, summary)
        return factory

    return decorator


Party = Trader | OptionalEoriParty


def parties(declaration: DeclarationModel) -> list[tuple[str, Party]]:
    """(pointer, party) for every party present on the declaration."""
    if isinstance(declaration, H1Declaration):
        found: list[tuple[str, Party]] = [
            ("/declarant", declaration.declarant),
            ("/importer", declaration.importer),
            ("/exporter", declaration.exporter),
        ]
        if declaration.seller is not None:
            found.append(("/seller", declaration.seller))
        if declaration.buyer is not None:
            found.append(("/buyer", declaration.buyer))
        return found
    return [
        ("/declarant", declaration.declarant),
        ("/consignee", declaration.consignee),
        ("/consignor", declaration.consignor),
    ]


def or_list(values: Iterable[object]) -> str:
    """'6, 8 or 10': a list as a person writes it, for messages."""
    items = [str(v) for v in values]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]
