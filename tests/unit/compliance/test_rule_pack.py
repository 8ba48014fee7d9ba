"""Rule packs: YAML changes change results without code changes; bad packs fail with clear errors."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from clearguard.compliance.errors import RulePackError
from clearguard.compliance.findings import Finding, Severity
from clearguard.compliance.rule_pack import RulePack, RulePackSet, load_rule_packs
from clearguard.compliance.service import ComplianceService
from clearguard.config import Settings
from clearguard.errors import ClearGuardError

from .conftest import Document, example, parse
from .test_rules import H1, H7, apply

DEFAULT_TEXT = resources.files("clearguard.compliance.packs").joinpath("default/2026.1.yaml").read_text("utf-8")
DEFAULT: dict[str, Any] = yaml.safe_load(DEFAULT_TEXT)


def pack_document() -> dict[str, Any]:
    return copy.deepcopy(DEFAULT)


def rule(document: dict[str, Any], rule_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in document["rules"] if r["id"] == rule_id)
    return found


def write(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False), "utf-8")
    return path


def findings(pack: str | Path | RulePack | RulePackSet, document: Document, **kwargs: Any) -> list[Finding]:
    return ComplianceService(pack).validate(parse(document), **kwargs)


def test_default_pack_ref_and_settings(tmp_path: Path) -> None:
    assert ComplianceService().pack_ref == "default@2026.1"
    assert ComplianceService.from_settings(Settings(rules_pack="default")).pack_ref == "default@2026.1"
    document = pack_document()
    document["version"] = "2026.7"
    path = write(tmp_path / "custom" / "pack.yaml", document)
    assert ComplianceService.from_settings(Settings(rules_pack=str(path))).pack_ref == "default@2026.7"


def test_severity_change_in_yaml(tmp_path: Path) -> None:
    broken = apply(example(H1), {"/gross_mass_kg": "2390.000"})
    assert [f.severity for f in findings("default", broken)] == [Severity.ERROR]
    document = pack_document()
    rule(document, "CG-MASS-002")["severity"] = "warning"
    path = write(tmp_path / "p.yaml", document)
    assert [(f.rule_id, f.severity) for f in findings(path, broken)] == [("CG-MASS-002", Severity.WARNING)]


def test_threshold_changes_in_yaml(tmp_path: Path) -> None:
    document = pack_document()
    rule(document, "CG-LVC-001")["params"]["limit_eur"] = "40"
    rule(document, "CG-VAL-001")["params"]["tolerance"] = "0.05"
    path = write(tmp_path / "p.yaml", document)
    assert [f.rule_id for f in findings(path, example(H7))] == ["CG-LVC-001"]
    assert findings(path, apply(example(H1), {"/invoice/amount": "18250.04"})) == []
    assert [f.rule_id for f in findings("default", apply(example(H1), {"/invoice/amount": "18250.04"}))] == [
        "CG-VAL-001"
    ]


def test_list_changes_in_yaml(tmp_path: Path) -> None:
    document = pack_document()
    rule(document, "CG-PRO-001")["params"]["goods"].append({"hs_prefix": "9503", "name": "toys"})
    rule(document, "CG-RES-001")["params"]["goods"].append(
        {"hs_prefix": "6403", "name": "leather footwear", "documents": ["Y123"]}
    )
    rule(document, "CG-CTY-001")["params"]["also_allowed"] = ["EU"]
    path = write(tmp_path / "p.yaml", document)
    assert [(f.rule_id, f.pointer) for f in findings(path, example(H7))] == [("CG-PRO-001", "/items/0/commodity_code")]
    assert [(f.rule_id, f.pointer) for f in findings(path, example(H1))] == [("CG-RES-001", "/items/1/documents")]
    assert (
        findings(
            path,
            apply(
                example(H1),
                {"/items/0/origin_country": "EU", "/items/1/documents/-": {"code": "Y123", "reference": "R"}},
            ),
        )
        == []
    )


def test_disable_and_reword_in_yaml(tmp_path: Path) -> None:
    document = pack_document()
    rule(document, "CG-HS-002")["enabled"] = False
    rule(document, "CG-HS-001")["message"] = "{rule_id} [{severity}] {field}: bad code {value!r}"
    path = write(tmp_path / "p.yaml", document)
    service = ComplianceService(path)
    assert isinstance(service.pack_for(), RulePack)
    assert "CG-HS-002" in service.pack_for().rule_ids
    bad = apply(example(H1), {"/items/0/commodity_code": "9999990", "/items/1/commodity_code": "999999"})
    (finding,) = service.validate(parse(bad))
    assert finding.message == "CG-HS-001 [error] /items/0/commodity_code: bad code '9999990'"


def test_newest_version_in_effect_applies(tmp_path: Path) -> None:
    folder = tmp_path / "mypack"
    write(folder / "2026.1.yaml", pack_document())
    later = pack_document()
    later.update(version="2026.2", effective_from=date(2026, 7, 1))
    rule(later, "CG-LVC-001")["params"]["limit_eur"] = "40"
    write(folder / "2026.2.yaml", later)
    packs = load_rule_packs(folder)
    assert isinstance(packs, RulePackSet)
    service = ComplianceService(packs)
    assert service.pack_for(date(2026, 6, 30)).ref == "default@2026.1"
    assert service.pack_for(date(2026, 7, 1)).ref == "default@2026.2"
    h7 = parse(example(H7))
    assert service.validate(h7, today=date(2026, 3, 1)) == []
    assert [f.rule_id for f in service.validate(h7, today=date(2026, 8, 1))] == ["CG-LVC-001"]
    with pytest.raises(RulePackError, match="no version is in effect on 2025-12-31"):
        service.validate(h7, today=date(2025, 12, 31))


def test_versions_compare_numerically(tmp_path: Path) -> None:
    for version in ("2026.9", "2026.10"):
        document = pack_document()
        document.update(pack="p", version=version)
        write(tmp_path / "p" / f"{version}.yaml", document)
    packs = load_rule_packs(tmp_path / "p")
    assert isinstance(packs, RulePackSet)
    assert packs.in_effect(date(2026, 6, 1)).ref == "p@2026.10"


def test_a_pack_file_applies_whatever_its_date(tmp_path: Path) -> None:
    document = pack_document()
    document["effective_from"] = date(2030, 1, 1)
    path = write(tmp_path / "future.yaml", document)
    assert ComplianceService(path).validate(parse(example(H1)), today=date(2026, 1, 1)) == []


Mutation = Callable[[dict[str, Any]], None]


def _set(rule_id: str, key: str, value: Any) -> Mutation:
    return lambda d: rule(d, rule_id).__setitem__(key, value)


def _params(rule_id: str, key: str, value: Any) -> Mutation:
    return lambda d: rule(d, rule_id).setdefault("params", {}).__setitem__(key, value)


BAD_PACKS: list[tuple[str, Mutation, list[str]]] = [
    (
        "unknown check",
        _set("CG-HS-001", "check", "no_such_check"),
        ["rule CG-HS-001", "key 'check'", "no_such_check"],
    ),
    (
        "bad severity",
        _set("CG-MASS-001", "severity", "fatal"),
        ["rule CG-MASS-001", "key 'severity'", "fatal"],
    ),
    (
        "missing message",
        lambda d: rule(d, "CG-VAL-001").pop("message"),
        ["rule CG-VAL-001", "key 'message'", "missing"],
    ),
    ("missing id", lambda d: d["rules"][0].pop("id"), ["rule #1", "key 'id'"]),
    ("bad id", _set("CG-HS-001", "id", "hs one"), ["key 'id'"]),
    ("unknown rule key", _set("CG-HS-001", "severty", "error"), ["rule CG-HS-001", "key 'severty'"]),
    (
        "unknown param",
        _params("CG-HS-001", "lenghts", [6]),
        ["rule CG-HS-001", "key 'params.lenghts'", "unknown key"],
    ),
    (
        "bad param value",
        _params("CG-VAL-001", "tolerance", "a cent"),
        ["rule CG-VAL-001", "key 'params.tolerance'"],
    ),
    (
        "negative tolerance",
        _params("CG-VAL-001", "tolerance", "-1"),
        ["rule CG-VAL-001", "key 'params.tolerance'"],
    ),
    (
        "missing param",
        lambda d: rule(d, "CG-LVC-001")["params"].pop("limit_eur"),
        ["rule CG-LVC-001", "key 'params.limit_eur'"],
    ),
    (
        "bad hs prefix",
        lambda d: rule(d, "CG-PRO-001")["params"]["goods"].append({"hs_prefix": "85A", "name": "x"}),
        ["rule CG-PRO-001", "hs_prefix"],
    ),
    (
        "restricted without document",
        lambda d: rule(d, "CG-RES-001")["params"]["goods"].append({"hs_prefix": "85", "name": "x", "documents": []}),
        ["rule CG-RES-001", "documents"],
    ),
    (
        "bad rate",
        lambda d: rule(d, "CG-LVC-001")["params"]["rates_to_eur"].__setitem__("usd", "1"),
        ["rule CG-LVC-001", "rates_to_eur", "usd"],
    ),
    (
        "unknown placeholder",
        _set("CG-HS-001", "message", "{field}: {nope}"),
        ["rule CG-HS-001", "key 'message'", "{nope}"],
    ),
    ("broken template", _set("CG-HS-001", "message", "{field"), ["rule CG-HS-001", "key 'message'"]),
    ("duplicate id", _set("CG-HS-002", "id", "CG-HS-001"), ["rule CG-HS-001", "twice"]),
    (
        "eori table: bad regex",
        lambda d: rule(d, "CG-EORI-001")["params"]["national"].__setitem__("GB", {"pattern": "[0-9", "text": "x"}),
        ["rule CG-EORI-001", "key 'params.national.GB.pattern'", "regular expression"],
    ),
    (
        "eori table: no country",
        lambda d: rule(d, "CG-EORI-001")["params"]["national"].__setitem__("QQ", {"pattern": "[0-9]", "text": "x"}),
        ["rule CG-EORI-001", "key 'params'", "QQ"],
    ),
    ("unquoted version", lambda d: d.__setitem__("version", 2026.1), ["key 'version'", "quoted"]),
    ("missing effective date", lambda d: d.pop("effective_from"), ["key 'effective_from'"]),
    ("no rules", lambda d: d.__setitem__("rules", []), ["key 'rules'"]),
    ("rule not a mapping", lambda d: d["rules"].append("CG-X-001"), ["rule #", "mapping"]),
]


@pytest.mark.parametrize(("name", "mutate", "expected"), BAD_PACKS, ids=[b[0] for b in BAD_PACKS])
def test_bad_pack_fails_loading_clearly(name: str, mutate: Mutation, expected: list[str], tmp_path: Path) -> None:
    document = pack_document()
    mutate(document)
    path = write(tmp_path / "bad.yaml", document)
    with pytest.raises(RulePackError) as caught:
        ComplianceService(path)
    message = str(caught.value)
    assert isinstance(caught.value, ClearGuardError)
    assert str(path) in message
    for part in expected:
        assert part in message, message
    assert "\n" not in message


def test_unreadable_packs(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("rules: [\n", "utf-8")
    with pytest.raises(RulePackError, match="not valid YAML"):
        load_rule_packs(tmp_path / "broken.yaml")
    (tmp_path / "list.yaml").write_text("- a\n", "utf-8")
    with pytest.raises(RulePackError, match="must be a mapping"):
        load_rule_packs(tmp_path / "list.yaml")
    with pytest.raises(RulePackError, match="cannot read"):
        load_rule_packs(tmp_path / "missing.yaml")
    with pytest.raises(RulePackError, match="no such pack"):
        load_rule_packs("nonexistent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RulePackError, match="no version files"):
        load_rule_packs(tmp_path / "empty")


def test_rule_pack_error_is_a_configuration_problem() -> None:
    error = RulePackError("x")
    assert error.exit_code == 2
    assert error.to_problem()["type"].endswith("rule-pack-invalid")


def test_the_eori_table_is_data_of_the_pack(tmp_path: Path) -> None:
    """Issue 13, item 14: GB12 fails by the shipped table; a pack that states another GB format
    changes the result (and the words of the finding) without a code change."""
    doc = example(H1)
    apply(doc, {"/declarant/eori": "GB12"})
    shipped = [f for f in findings("default", doc) if f.rule_id == "CG-EORI-001"]
    assert [f.pointer for f in shipped] == ["/declarant/eori"]
    assert "GB followed by 12 digits" in shipped[0].message and "(rule CG-EORI-001)" in shipped[0].message
    document = pack_document()
    rule(document, "CG-EORI-001")["params"]["national"]["GB"] = {"pattern": "[0-9]{2}", "text": "2 digits"}
    path = write(tmp_path / "gb-two.yaml", document)
    assert "/declarant/eori" not in {f.pointer for f in findings(path, doc) if f.rule_id == "CG-EORI-001"}
    service = ComplianceService(path)
    assert service.check_eori("gb12", field="party") == "GB12"
    with pytest.raises(
        ClearGuardError, match=r"party: not an EORI number: GB EORI numbers are GB followed by 2 digits"
    ):
        service.check_eori("GB123456789000", field="party")


def test_samples_demo_accounts_and_bench_use_eoris_the_shipped_table_accepts() -> None:
    """The generators and fixed accounts stay valid under the per-country formats (issue 13, item 14)."""
    from clearguard.declarations.samples import generate
    from clearguard.identity.demo import DEMO_ACCOUNTS, DEMO_MANDATE

    service = ComplianceService("default")
    for doc in generate(400, seed=13):
        assert not [f for f in service.validate(parse(doc)) if f.rule_id == "CG-EORI-001"], doc["declarant"]
    for party in [p for _n, _r, p, _o in DEMO_ACCOUNTS if p] + [DEMO_MANDATE[1], "GB123456789000"]:
        assert service.check_eori(party, field="party") == party
