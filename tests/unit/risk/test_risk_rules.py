from __future__ import annotations

from pathlib import Path

import pytest

from clearguard.risk.errors import PolicyError
from clearguard.risk.policy import load_policy, parse_policy
from clearguard.risk.rules import UnitValueContext, evaluate_rules
from tests.unit.risk.risk_helpers import make_record

POLICY = """
version: test-1
channels:
  random_share: 0.2
  default: {red: 0.01, yellow: 0.02, blue: 0.0}
  offices: {"30": {red: 0.05, yellow: 0.05, blue: 0.05}}
rules:
  - {id: WL-1, kind: watchlist, party: declarant, ids: [BAD1], message: declarant on the watchlist}
  - {id: WL-2, kind: watchlist, party: seller, ids: [BADSELL], message: seller on the watchlist}
  - {id: OR-1, kind: restricted_origin, origins: [KP], message: embargo}
  - {id: OR-2, kind: restricted_origin, origins: [IR], hs_prefixes: ["8471"], message: dual use}
  - {id: UV-1, kind: unit_value, max_abs_z: 3, min_history: 30, message: odd unit value}
  - {id: UV-2, kind: unit_value, hs_prefixes: ["7108"], min_per_kg: 20000, message: gold too cheap}
"""


def test_policy_parses_and_rules_fire_with_explanations() -> None:
    policy = parse_policy(POLICY)
    assert policy.version == "test-1"
    assert policy.channels.targets("30").red == 0.05 and policy.channels.random_share == 0.2
    records = [
        make_record(item=1),
        make_record(item=2, declarant_id="BAD1"),
        make_record(item=3, origin_country="KP"),
        make_record(item=4, origin_country="IR", hs6="847130"),
        make_record(item=5, origin_country="IR", hs6="392690"),
        make_record(item=6, hs6="710812", net_mass_kg=1.0, item_price=100.0),
        make_record(item=7, seller_id="BADSELL"),
    ]
    contexts = [UnitValueContext(0.1, 100)] * 7
    contexts[0] = UnitValueContext(-5.0, 100)
    hits = evaluate_rules(policy.rules, records, contexts)
    assert [(h.item, h.rule_id) for h in hits] == [
        (1, "UV-1"),
        (2, "WL-1"),
        (3, "OR-1"),
        (4, "OR-2"),
        (6, "UV-2"),
        (7, "WL-2"),
    ]
    assert hits[0].to_json() == {"rule": "UV-1", "item": 1, "message": "odd unit value"}


def test_unit_value_z_needs_enough_history() -> None:
    policy = parse_policy(POLICY)
    assert not evaluate_rules(policy.rules, [make_record()], [UnitValueContext(-9.0, 5)])
    assert not evaluate_rules(policy.rules, [make_record()], None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [{id: X, kind: nope, message: m}]", "rules.0"),
        ("channels: {random_share: 0.01}", "random_share"),
        ("rules: [{id: A, kind: restricted_origin, origins: [KP], message: m},"
         " {id: A, kind: restricted_origin, origins: [IR], message: m}]", "repeat"),
        ("channels: [1, 2", "not YAML"),
        ("surprise: 1", "surprise"),
    ],
)  # fmt: skip
def test_bad_policies_are_refused_with_the_field(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(text)


def test_packaged_default_policy_loads(tmp_path: Path) -> None:
    policy = load_policy()
    assert policy.channels.random_share >= 0.10
    assert {r.id for r in policy.rules}
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.yaml")
