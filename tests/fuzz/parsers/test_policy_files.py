"""Rule packs, retention policies, the risk policy and the detection rules, thresholds and
locations files, given odd bytes and odd structures: each parser's named error, nothing else."""

from __future__ import annotations

import tempfile
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from clearguard.compliance.errors import RulePackError
from clearguard.compliance.rule_pack import parse_pack
from clearguard.config import Settings
from clearguard.detection.configured import detection_config
from clearguard.detection.errors import DetectionInputError
from clearguard.detection.locations import parse_locations
from clearguard.detection.ruleset import load_rules, shipped_rules_dir
from clearguard.detection.thresholds import DetectionConfig
from clearguard.retention.policy import Period, PolicyError, parse_policies
from clearguard.risk.errors import PolicyError as RiskPolicyError
from clearguard.risk.policy import parse_policy
from tests.fuzz.odd import FUZZ, json_values, odd_bytes, odd_text, refused_or_read, restructured


def _text(package: str, name: str) -> bytes:
    return resources.files(package).joinpath(name).read_bytes()


PACK = _text("clearguard.compliance.packs", "default/2026.1.yaml")
RETENTION = _text("clearguard.retention.policies", "default.yaml")
RISK = _text("clearguard.risk", "policy.yaml")
RULES = [path.read_bytes() for path in sorted(shipped_rules_dir().glob("*.yml"))]
RULE_DOCS = [list(yaml.safe_load_all(r)) for r in RULES]  # a file holds several rules, as documents
LOCATIONS = b"cidr,city,country,lat,lon\n203.0.113.0/24,London,GB,51.5,-0.12\n198.51.100.0/24,Amsterdam,NL,52.37,4.9\n"


def _yaml(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def test_the_samples_parse() -> None:
    parse_pack(PACK.decode(), "pack", "default")
    parse_policies(RETENTION.decode(), "retention")
    parse_policy(RISK.decode())
    parse_locations(LOCATIONS.decode())


@FUZZ
@given(text=st.one_of(odd_text([PACK]), restructured([yaml.safe_load(PACK)]).map(_yaml)))
def test_rule_pack(text: str) -> None:
    refused_or_read(lambda: parse_pack(text, "pack.yaml", "default"), RulePackError)


@FUZZ
@given(text=st.one_of(odd_text([RETENTION]), restructured([yaml.safe_load(RETENTION)]).map(_yaml)))
def test_retention_policy(text: str) -> None:
    refused_or_read(lambda: parse_policies(text, "policy.yaml"), PolicyError)


@FUZZ
@given(text=st.one_of(st.text(max_size=40), st.from_regex(r"\AP([0-9]{1,4}Y)?([0-9]{1,5}M)?([0-9]{1,6}D)?\s?\Z")))
def test_retention_period(text: str) -> None:
    # Period.parse is a pydantic validator's helper: ValueError is its documented refusal.
    period = refused_or_read(lambda: Period.parse(text), ValueError)
    if period is not None:
        assert period.after(date(2026, 12, 6)) >= date(2026, 12, 6)  # the longest accepted period fits a date


@FUZZ
@given(text=st.one_of(odd_text([RISK]), restructured([yaml.safe_load(RISK)]).map(_yaml)))
def test_risk_policy(text: str) -> None:
    refused_or_read(lambda: parse_policy(text), RiskPolicyError)


@FUZZ
@given(text=odd_text([LOCATIONS]))
def test_locations_file(text: str) -> None:
    refused_or_read(lambda: parse_locations(text), DetectionInputError)


@FUZZ
@given(values=st.dictionaries(st.sampled_from(sorted(DetectionConfig.model_fields)), json_values(1), max_size=4))
def test_detection_thresholds(values: dict[str, Any]) -> None:
    try:
        settings = Settings(env="test", detection_thresholds=values)
    except ValueError:
        return  # the settings' own type check (dict of numbers) refused it at startup
    refused_or_read(lambda: detection_config(settings), DetectionInputError)


@FUZZ
@given(raw=st.one_of(odd_bytes(RULES), restructured(RULE_DOCS).map(lambda d: yaml.safe_dump_all(d).encode())))
def test_detection_rule_file(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "local.yml").write_bytes(raw)
        rules = Path(folder)
        refused_or_read(lambda: load_rules(DetectionConfig(), [rules], include_shipped=False), DetectionInputError)


# Defects the fuzzing found, kept as regression tests: every YAML policy reader let a ValueError
# (an integer of 5000 digits, a date such as 2026-02-30) or a RecursionError (deep nesting) escape.
CRASHERS = ("version: " + "9" * 5000, "effective_from: 2026-02-30", "[" * 1200, "a: " + "- " * 1200 + "x")


def test_yaml_crashers_are_each_parsers_own_error() -> None:
    for text in CRASHERS:
        assert refused_or_read(lambda: parse_pack(text, "pack.yaml", "default"), RulePackError) is None
        assert refused_or_read(lambda: parse_policies(text, "policy.yaml"), PolicyError) is None
        assert refused_or_read(lambda: parse_policy(text), RiskPolicyError) is None
