"""Loading rules: pySigma parses and validates, ClearGuard refuses what it cannot evaluate, an
administration's folder adds rules, thresholds come from the configuration."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from clearguard.detection.engine import Detector
from clearguard.detection.errors import DetectionInputError
from clearguard.detection.ruleset import load_rules, shipped_rules_dir
from clearguard.detection.thresholds import DetectionConfig
from tests.unit.detection.support import MONDAY_10, alerts, ev, every, locations, rules, run

BASE = """
title: Export by an auditor
name: auditor_export
logsource:
  product: clearguard
  category: activity
detection:
  selection:
    role: auditor
    action|startswith: declaration.exp
  condition: selection
level: medium
"""


def folder(tmp_path: Path, text: str, name: str = "local.yml") -> Path:
    d = tmp_path / "site-rules"
    d.mkdir(exist_ok=True)
    (d / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return d


def test_the_shipped_rules_cover_the_issue_list() -> None:
    rs = rules()
    assert rs.version == "2026.12.1"
    by_name = {r.name: r for r in rs.rules}
    types = {r.type for r in rs.rules}
    assert {"event_count", "value_count", "value_sum", "temporal_ordered"} <= types
    kinds = {r.kind for r in rs.rules if r.emits and r.level == "alert"}
    assert {
        "brute_force",
        "password_spraying",
        "failures_then_success",
        "impossible_travel",
        "off_hours_export",
        "mass_export",
        "privilege_abuse",
        "insider_bulk_read",
    } <= kinds
    assert by_name["breakglass_notice"].level == "notice" and by_name["role_change_notice"].level == "notice"
    assert by_name["failure_then_success"].level == "notice"


def test_yaml_numbers_equal_the_configuration_defaults() -> None:
    """Each rule's thresholds in the YAML are DetectionConfig's defaults, so the file a SIEM gets
    says what ClearGuard does."""
    checked = 0
    for rule in rules().rules:
        for what, (setting, in_yaml, in_force) in rule.settings.items():
            assert in_yaml == in_force, f"{rule.name}.{what}: YAML {in_yaml} but {setting} defaults to {in_force}"
            checked += 1
    assert checked >= 20


def test_settings_override_the_numbers_in_force() -> None:
    rs = load_rules(DetectionConfig(spraying_accounts=2, impossible_travel_kmh=300))
    by_name = {r.name: r for r in rs.rules}
    assert by_name["password_spraying"].settings["count"] == ("spraying_accounts", 5.0, 2.0)
    assert by_name["impossible_travel"].settings["speed_kmh"] == ("impossible_travel_kmh", 900.0, 300.0)
    det = Detector(rs, config=DetectionConfig(impossible_travel_kmh=300), locations=locations())
    found = run(
        [
            ev(MONDAY_10, source_ip="10.20.9.9"),
            ev(MONDAY_10 + timedelta(minutes=30), source_ip="10.30.0.7"),  # Paris, 688 km/h
        ],
        det,
    )
    assert alerts(found, "impossible_travel")


def test_an_administration_folder_adds_its_rules(tmp_path: Path) -> None:
    rs = load_rules(DetectionConfig(), [folder(tmp_path, BASE)])
    assert rs.version == "2026.12.1+site-rules"
    det = Detector(rs, config=DetectionConfig(), locations=None)
    found = run([ev(MONDAY_10, "aud-1", "declaration.export", role="auditor")], det)
    assert [f.rule for f in alerts(found)] == ["auditor_export"]
    assert (
        run([ev(MONDAY_10, "off-1", "declaration.export")], Detector(rs, config=DetectionConfig(), locations=None))
        == []
    )


def test_an_administration_correlation_can_use_shipped_rules(tmp_path: Path) -> None:
    corr = """
    title: Three failures
    name: three_failures
    correlation:
      type: event_count
      rules: [login_failure]
      group-by: [actor]
      timespan: 1m
      condition: {gte: 3}
    level: high
    clearguard: {kind: brute_force, explain: "{count} failures of {actor} in {window}"}
    """
    rs = load_rules(DetectionConfig(), [folder(tmp_path, corr)])
    det = Detector(rs, config=DetectionConfig(), locations=None)
    events = [ev(t, "u1", "auth.login", outcome="failure") for t in every(MONDAY_10, 3, 5)]
    hits = alerts(run(events, det), "three_failures")
    assert [h.explanation for h in hits] == ["3 failures of u1 in 1 min"]


MALFORMED = {
    "unknown modifier": (BASE.replace("action|startswith", "action|sortof"), "sortof"),
    "undefined detection in condition": (
        BASE.replace("condition: selection", "condition: selection and other"),
        "other",
    ),
    "bad regular expression": (BASE.replace("action|startswith: declaration.exp", "action|re: '(['"), "invalid"),
    "no logsource match": (BASE.replace("product: clearguard", "product: windows"), "logsource: must be"),
    "unknown field": (BASE.replace("role: auditor", "username: auditor"), "username: not a field of activity events"),
    "keyword detection": (
        BASE.replace(
            "  selection:\n    role: auditor\n    action|startswith: declaration.exp", "  selection:\n    - bad"
        ),
        "keyword",
    ),
    "no name": (BASE.replace("name: auditor_export\n", ""), "needs a name"),
    "unknown clearguard attribute": (BASE + "clearguard: {severity: high}\n", "clearguard.severity: unknown attribute"),
    "unknown setting": (
        BASE + "clearguard: {settings: {count: no_such_setting}}\n",
        "'no_such_setting' is not a detection setting",
    ),
    "bad explanation key": (BASE + "clearguard: {explain: '{party}'}\n", "{party} is not one of"),
    "not yaml": ("title: [unclosed\n", "site-rules/local.yml: not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_rule_is_refused_naming_the_file(tmp_path: Path, case: str) -> None:
    text, needle = MALFORMED[case]
    with pytest.raises(DetectionInputError) as caught:
        load_rules(DetectionConfig(), [folder(tmp_path, text)])
    message = str(caught.value)
    assert needle in message, message
    assert "\n" not in message and caught.value.exit_code == 2


CORRELATION = """
title: c
name: c1
correlation:
  type: event_count
  rules: [login_failure]
  group-by: [actor]
  timespan: 10m
  condition: {gte: 3}
level: high
"""

MALFORMED_CORRELATIONS = {
    "unknown rule": (
        CORRELATION.replace("[login_failure]", "[no_such_rule]"),
        "site-rules/local.yml: rule c1: Rule 'no_such_rule' not found",
    ),
    "bad timespan": (CORRELATION.replace("timespan: 10m", "timespan: 10 minutes"), "imespan"),
    "undecidable condition": (CORRELATION.replace("gte: 3", "lt: 3"), "lt cannot be decided while events arrive"),
    "unknown group-by": (CORRELATION.replace("[actor]", "[username]"), "group-by: username"),
    "value_count without field": (CORRELATION.replace("event_count", "value_count"), "without field reference"),
    "temporal with one rule": (CORRELATION.replace("event_count", "temporal"), "at least two rules"),
    "duplicate name": (CORRELATION.replace("name: c1", "name: brute_force_account"), "defined twice"),
    "bad setting on a correlation": (
        CORRELATION + "clearguard: {settings: {speed: impossible_travel_kmh}}\n",
        "a correlation sets count and timespan",
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_CORRELATIONS))
def test_a_malformed_correlation_is_refused(tmp_path: Path, case: str) -> None:
    text, needle = MALFORMED_CORRELATIONS[case]
    with pytest.raises(DetectionInputError) as caught:
        load_rules(DetectionConfig(), [folder(tmp_path, text)])
    assert needle in str(caught.value), str(caught.value)


def test_correlations_in_a_cycle_are_refused(tmp_path: Path) -> None:
    text = """
    title: a
    name: a
    correlation: {type: temporal, rules: [b, login_failure], group-by: [actor], timespan: 1m}
    level: high
    ---
    title: b
    name: b
    correlation: {type: temporal, rules: [a, login_success], group-by: [actor], timespan: 1m}
    level: high
    """
    with pytest.raises(DetectionInputError, match="cycle"):
        load_rules(DetectionConfig(), [folder(tmp_path, text)])


def test_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DetectionInputError, match="not a folder of rules"):
        load_rules(DetectionConfig(), [tmp_path / "nowhere"])


def test_the_shipped_folder_is_in_the_package() -> None:
    d = shipped_rules_dir()
    assert (d / "version.txt").read_text().strip() == "2026.12.1"
    assert len(list(d.glob("*.yml"))) >= 4
