"""pip-audit's answers: vulnerabilities become facts, a service that knows none of the packages or a
failing pip-audit become `not checked`, and answers are cached (0600) for a day, failures an hour."""

from __future__ import annotations

import json
import stat
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from clearguard.posture.advisories import DependencyAudit, parse_pip_audit
from clearguard.posture.facts import DependencyFacts, Unavailable
from tests.unit.posture.facts_builder import NOW

# The shape pip-audit 2.x prints with `--format json` (one vulnerable, one clean, one skipped).
FOUND = {
    "dependencies": [
        {
            "name": "jinja2",
            "version": "3.1.2",
            "vulns": [
                {
                    "id": "GHSA-h5c8-rqwp-cp95",
                    "fix_versions": ["3.1.3"],
                    "aliases": ["CVE-2024-22195"],
                    "description": "x",
                }
            ],
        },
        {"name": "httpx", "version": "0.28.1", "vulns": []},
        {"name": "clearguard", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    ],
    "fixes": [],
}


class Runs:
    """pip-audit's process as the audit sees it: each call answers the next (code, stdout, stderr)."""

    def __init__(self, *answers: tuple[int, str, str]) -> None:
        self.answers = list(answers)
        self.argv: list[Sequence[str]] = []

    def __call__(self, argv: Sequence[str], timeout_s: float) -> tuple[int, str, str]:
        self.argv.append(argv)
        return self.answers.pop(0)


def test_parse_finds_vulnerabilities_and_counts_audited_packages() -> None:
    facts = parse_pip_audit(FOUND, NOW)
    assert isinstance(facts, DependencyFacts)
    assert facts.packages == 2
    assert [(v.package, v.advisory, v.fixed_in) for v in facts.vulnerabilities] == [
        ("jinja2", "GHSA-h5c8-rqwp-cp95", ("3.1.3",))
    ]


def test_parse_says_not_checked_when_the_service_knew_no_package() -> None:
    skipped = {"dependencies": [{"name": "a", "skip_reason": "Dependency not found on PyPI"}], "fixes": []}
    facts = parse_pip_audit(skipped, NOW)
    assert isinstance(facts, Unavailable) and "none of the 1 packages" in facts.why


def test_results_are_cached_a_day_in_a_private_file(tmp_path: Path) -> None:
    runs = Runs((1, json.dumps(FOUND), ""), (0, json.dumps({"dependencies": [], "fixes": []}), ""))
    audit = DependencyAudit(tmp_path / "posture", runner=runs)
    first = audit.facts(NOW)
    assert isinstance(first, DependencyFacts) and not first.cached and len(first.vulnerabilities) == 1
    assert "pip_audit" in runs.argv[0] and "pypi" in runs.argv[0]
    assert stat.S_IMODE(audit.cache.stat().st_mode) == 0o600
    again = audit.facts(NOW + timedelta(hours=23))
    assert isinstance(again, DependencyFacts) and again.cached and again.vulnerabilities == first.vulnerabilities
    assert len(runs.argv) == 1
    audit.facts(NOW + timedelta(hours=25))
    assert len(runs.argv) == 2


def test_a_failing_pip_audit_is_not_checked_with_its_cause_and_retried_after_an_hour(tmp_path: Path) -> None:
    crash = (1, "", "Traceback ...\nrequests.exceptions.ProxyError: Unable to connect to proxy")
    runs = Runs(crash, (0, json.dumps(FOUND), ""))
    audit = DependencyAudit(tmp_path, runner=runs)
    facts = audit.facts(NOW)
    assert isinstance(facts, Unavailable) and "ProxyError" in facts.why
    assert isinstance(audit.facts(NOW + timedelta(minutes=30)), Unavailable)
    assert isinstance(audit.facts(NOW + timedelta(minutes=61)), DependencyFacts)
