"""Validation stays cheap: after the first call, validating a declaration parses no YAML, compiles
no regular expression and reloads no rule pack or reference table; those are the costs that once
made validation slow. Counted, not timed (issue 18 bans wall-clock assertions); the speed itself is
bench/compliance.py's figure (µs per declaration, against the pydantic parse alone)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from clearguard.compliance import rule_pack
from clearguard.compliance.service import ComplianceService

from .conftest import example, parse
from .test_rules import H1, H7


def _counting(calls: list[str], name: str, real: Callable[..., Any]) -> Callable[..., Any]:
    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return real(*args, **kwargs)

    return spy


def test_validation_does_no_setup_work_per_declaration(
    service: ComplianceService, monkeypatch: pytest.MonkeyPatch
) -> None:
    declarations = [parse(example(H1)), parse(example(H7))]

    def lookup(eori: str, lrn: str) -> bool:
        return False

    for declaration in declarations:  # the first call may warm caches
        service.validate(declaration, lrn_in_use=lookup)
    calls: list[str] = []
    compiled: dict[Any, Any] = getattr(re, "_cache", {})  # re's own cache of compiled patterns
    monkeypatch.setattr(re, "compile", _counting(calls, "re.compile", re.compile))
    monkeypatch.setattr(yaml, "safe_load", _counting(calls, "yaml.safe_load", yaml.safe_load))
    monkeypatch.setattr(yaml, "load", _counting(calls, "yaml.load", yaml.load))
    monkeypatch.setattr(rule_pack, "parse_pack", _counting(calls, "parse_pack", rule_pack.parse_pack))
    monkeypatch.setattr(rule_pack, "load_rule_packs", _counting(calls, "load_rule_packs", rule_pack.load_rule_packs))
    before = set(compiled)
    for _ in range(50):
        for declaration in declarations:
            assert service.validate(declaration, lrn_in_use=lookup) is not None
    assert calls == []
    assert set(compiled) <= before  # re.match(pattern_text) compiled nothing new either
