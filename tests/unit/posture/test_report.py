"""The report's JSON is exactly the shape issue 18 names; text and HTML carry the same checks; a new
fail is one that passed or warned in the previous report."""

from __future__ import annotations

import json
from dataclasses import replace

from clearguard.posture.checks import run_checks
from clearguard.posture.facts import FileFacts
from clearguard.posture.report import Report, render
from clearguard.posture.service import new_fails
from tests.unit.posture.facts_builder import NOW, healthy

INSTANCE = {"name": "Customs <Test>", "url": "https://cg.example", "env": "prod"}


def report(**changes: object) -> Report:
    return Report(tuple(run_checks(healthy(**changes))), NOW, INSTANCE)


def test_json_shape_and_round_trip() -> None:
    exposed = FileFacts("var", 3, (("clearguard.db", 0o644),), ())
    r = report(files=exposed)
    body = json.loads(render(r, "json"))
    assert set(body) == {"checks", "summary", "generated_at", "instance"}
    assert body["summary"] == {"pass": len(r.checks) - 1, "warn": 0, "fail": 1}
    assert body["instance"] == INSTANCE and body["generated_at"] == NOW.isoformat()
    for check in body["checks"]:
        assert {"id", "status", "reason", "asvs"} <= set(check) and check["status"] in ("pass", "warn", "fail")
    assert Report.from_dict(body) == r


def test_text_and_html_show_every_check_and_html_escapes() -> None:
    r = report()
    text = render(r, "text")
    assert all(c.id in text and c.asvs in text for c in r.checks)
    page = render(r, "html")
    assert "Customs &lt;Test&gt;" in page and "<Test>" not in page and "<script" not in page
    assert page.count("<tr>") == len(r.checks) + 1


def test_new_fails_are_those_that_passed_or_warned_before() -> None:
    exposed = FileFacts("var", 3, (("clearguard.db", 0o644),), ())
    good, bad = report(), report(files=exposed)
    assert [c.id for c in new_fails(good, bad)] == ["files.permissions"]
    assert new_fails(bad, bad) == []
    assert [c.id for c in new_fails(None, bad)] == ["files.permissions"]
    warned = replace(
        good, checks=tuple(replace(c, status="warn") if c.id == "files.permissions" else c for c in good.checks)
    )
    assert [c.id for c in new_fails(warned, bad)] == ["files.permissions"]
