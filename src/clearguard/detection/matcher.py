"""The matcher: a Sigma rule's detection, as pySigma parsed it, compiled to a predicate over an
enriched event's fields (pure).

pySigma parses and converts rules but matches no events, so this walks its condition tree
(and/or/not, `1 of`/`all of` already expanded by pySigma) and its typed values (strings with
wildcards from equals, contains, startswith and endswith; regular expressions; numeric comparisons;
CIDR networks; null, exists, booleans, numbers, field references). Sigma semantics: strings compare
case-insensitively unless `cased`; `re` searches; a comparison or CIDR on a missing or non-numeric
value is false. Anything this matcher cannot evaluate is refused when the rule loads, never
silently taken as false.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SigmaType,
)

Fields = Mapping[str, Any]
Predicate = Callable[[Fields], bool]


class UnsupportedRule(ValueError):
    """A rule construct the matcher cannot evaluate; the loader names the rule."""


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _string_predicate(field: str, value: SigmaString) -> Predicate:
    cased = isinstance(value, SigmaCasedString)
    if not value.contains_special():
        plain = value.to_plain()
        if cased:
            return lambda f: _as_text(f.get(field)) == plain
        folded = plain.casefold()
        return lambda f: (t := _as_text(f.get(field))) is not None and t.casefold() == folded
    pattern = re.compile(str(value.to_regex().regexp), 0 if cased else re.IGNORECASE | re.DOTALL)
    return lambda f: (t := _as_text(f.get(field))) is not None and pattern.fullmatch(t) is not None


_COMPARE: dict[CompareOperators, Callable[[float, float], bool]] = {
    CompareOperators.LT: lambda a, b: a < b,
    CompareOperators.LTE: lambda a, b: a <= b,
    CompareOperators.GT: lambda a, b: a > b,
    CompareOperators.GTE: lambda a, b: a >= b,
    CompareOperators.NEQ: lambda a, b: a != b,
}


def _compare_predicate(field: str, value: SigmaCompareExpression, override: float | None) -> Predicate:
    op = _COMPARE[value.op]
    limit = float(override) if override is not None else float(value.number.number)
    return lambda f: (n := _number(f.get(field))) is not None and op(n, limit)


def _cidr_predicate(field: str, value: SigmaCIDRExpression) -> Predicate:
    network = value.network

    def match(f: Fields) -> bool:
        text = f.get(field)
        if not isinstance(text, str):
            return False
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return False
        return address.version == network.version and address in network

    return match


def _regex_predicate(field: str, value: SigmaRegularExpression) -> Predicate:
    flags = 0
    for flag in value.flags:
        flags |= SigmaRegularExpression.sigma_to_python_flags[flag]
    try:
        pattern = re.compile(str(value.regexp), flags)
    except re.error as exc:
        raise UnsupportedRule(f"{field}: regular expression does not compile ({exc})") from None
    return lambda f: (t := _as_text(f.get(field))) is not None and pattern.search(t) is not None


def _value_predicate(field: str, value: SigmaType, overrides: Mapping[str, float]) -> Predicate:
    if isinstance(value, SigmaNull):
        return lambda f: f.get(field) is None
    if isinstance(value, SigmaExists):
        wanted = bool(value)
        return lambda f: (f.get(field) is not None) == wanted
    if isinstance(value, SigmaBool):
        b = value.boolean
        return lambda f: (v := f.get(field)) is b or (isinstance(v, str) and v.casefold() == str(b).casefold())
    if isinstance(value, SigmaNumber):
        target = float(value.number)
        return lambda f: (n := _number(f.get(field))) is not None and n == target
    if isinstance(value, SigmaString):
        return _string_predicate(field, value)
    if isinstance(value, SigmaRegularExpression):
        return _regex_predicate(field, value)
    if isinstance(value, SigmaCompareExpression):
        return _compare_predicate(field, value, overrides.get(field))
    if isinstance(value, SigmaCIDRExpression):
        return _cidr_predicate(field, value)
    if isinstance(value, SigmaFieldReference):
        if value.starts_with or value.ends_with:
            raise UnsupportedRule(f"{field}: fieldref with startswith/endswith is not supported")
        other = value.field
        return lambda f: f.get(field) is not None and f.get(field) == f.get(other)
    raise UnsupportedRule(f"{field}: values of type {type(value).__name__} are not supported")


def compile_condition(node: Any, known_fields: frozenset[str], overrides: Mapping[str, float]) -> Predicate:
    """A predicate from pySigma's post-processed condition tree; UnsupportedRule on what it cannot
    evaluate or a field no activity event has."""
    if isinstance(node, ConditionAND):
        parts = [compile_condition(a, known_fields, overrides) for a in node.args]
        return lambda f: all(p(f) for p in parts)
    if isinstance(node, ConditionOR):
        parts = [compile_condition(a, known_fields, overrides) for a in node.args]
        return lambda f: any(p(f) for p in parts)
    if isinstance(node, ConditionNOT):
        inner = compile_condition(node.args[0], known_fields, overrides)
        return lambda f: not inner(f)
    if isinstance(node, ConditionFieldEqualsValueExpression):
        if node.field not in known_fields:
            raise UnsupportedRule(f"{node.field}: not a field of activity events")
        if isinstance(node.value, SigmaFieldReference) and node.value.field not in known_fields:
            raise UnsupportedRule(f"{node.value.field}: not a field of activity events")
        return _value_predicate(node.field, node.value, overrides)
    if isinstance(node, ConditionValueExpression):
        raise UnsupportedRule("keyword detections (values without a field) are not supported: name the field")
    raise UnsupportedRule(f"condition element {type(node).__name__} is not supported")


def conjuncts(node: Any) -> list[Any]:
    """The top-level AND's parts (nested ANDs flattened); the node itself otherwise."""
    if isinstance(node, ConditionAND):
        return [part for arg in node.args for part in conjuncts(arg)]
    return [node]


def fields_of(node: Any) -> set[str]:
    """Every field a condition reads."""
    if isinstance(node, ConditionFieldEqualsValueExpression):
        found = {node.field}
        if isinstance(node.value, SigmaFieldReference):
            found.add(node.value.field)
        return found
    if isinstance(node, ConditionAND | ConditionOR | ConditionNOT):
        return set().union(*(fields_of(a) for a in node.args))
    return {"*"}  # keywords read everything
