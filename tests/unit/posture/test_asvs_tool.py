"""`make asvs` (tools/asvs.py): every id a test's marker or the not-applicable list names is a real
ASVS 5.0 requirement, no requirement is both covered and judged not applicable, each judgement has
a reason, and the figures add up."""

from __future__ import annotations

import json

import pytest
from tools import asvs


def test_markers_and_judgements_name_real_requirements() -> None:
    reqs = asvs.requirements()
    assert len(reqs) == 345 and {r.level for r in reqs.values()} == {1, 2, 3}
    marks, na = asvs.markers(), asvs.not_applicable()
    assert marks and set(marks) <= set(reqs)
    assert set(na) <= set(reqs) and all(reason.strip() for reason in na.values())
    assert not set(marks) & set(na), "a requirement a test proves cannot be judged not applicable"


def test_the_report_adds_up(capsys: pytest.CaptureFixture[str]) -> None:
    assert asvs.main(["--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["applicable"] == figures["in_scope"] - figures["not_applicable"]
    assert figures["covered"] == len(figures["covered_ids"]) <= figures["applicable"]
    assert figures["covered"] + len(figures["uncovered_ids"]) == figures["applicable"]
    marks = asvs.markers()
    assert all(rid in marks for rid in figures["covered_ids"])
