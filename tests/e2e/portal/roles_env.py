"""Helpers for the staff roles' browser tests: declarations that await an officer, a stale second
factor (so that the next step-up permission asks for one), SVG charts read off the page."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

from tests.e2e.portal.conftest import Portal, current_code


def lodge_for_control(portal: Portal, tmp_path: Path, *, office: str = "GB000060") -> str:
    """A fresh declaration of the demo trader that the risk rules send to an officer: its item's
    origin is under embargo (RISK-ORIGIN-001), so every such declaration is controlled."""
    doc = json.loads(resources.files("clearguard.declarations.demo").joinpath("h1-import.json").read_text())
    doc["lrn"] = "E2E-" + uuid.uuid4().hex[:12].upper()
    doc["office_of_presentation"] = office
    for item in doc["items"]:
        item["origin_country"] = "KP"
    path = tmp_path / f"{doc['lrn']}.json"
    path.write_text(json.dumps(doc))
    done = portal.cli("declarations", "lodge", str(path), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "under_control", result
    return str(result["mrn"])


def require_step_up(portal: Portal, username: str) -> None:
    """What a security response does: the account's sessions lose their proof of a second factor, so
    the next step-up permission asks for a fresh code (without waiting out the step-up window)."""
    code = (
        "from clearguard.cli_support import open_services\n"
        "with open_services() as s:\n"
        f"    s.identity.require_step_up({username!r}, by='e2e', reason='the test asks for a fresh second factor')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=portal.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def step_up(page: Any, portal: Portal, username: str) -> None:
    """On the step-up page: the current TOTP code, then back to the page the action came from."""
    page.wait_for_url("**/step-up**")
    page.get_by_label("Code").fill(current_code(portal.accounts[username]))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()
    assert "/step-up" not in page.url, page.content()[:500]


def fresh_second_factor(page: Any, portal: Portal, username: str, back: str) -> None:
    """Step up before an action (the step-up page is open to every signed-in account), so that a test
    of something else does not depend on how long ago the account signed in."""
    page.goto(portal.url(f"/step-up?next={back}"))
    step_up(page, portal, username)


def chart(page: Any, chart_id: str) -> dict[str, Any]:
    """An SVG chart on the page: its title, description and bars (value, height)."""
    svg = page.locator(f"svg#{chart_id}")
    assert svg.count() == 1, f"no chart {chart_id}"
    bars = svg.locator("rect.bar")
    values = [bars.nth(i).get_attribute("data-value") or "nan" for i in range(bars.count())]
    heights = [bars.nth(i).get_attribute("height") or "nan" for i in range(bars.count())]
    return {
        "title": svg.locator("title").first.text_content(),
        "desc": svg.locator("desc").text_content(),
        "bars": [(float(v), float(h)) for v, h in zip(values, heights, strict=True)],
        "labels": svg.locator("text.chart-label").all_text_contents(),
    }
