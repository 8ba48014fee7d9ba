"""The risk analyst in a real browser: models, the report per office and channel, hit rates as a chart."""

from __future__ import annotations

from typing import Any

from tests.e2e.portal.conftest import Portal, screenshot
from tests.e2e.portal.roles_env import chart


def test_analyst_sees_models_report_and_hit_rates(open_page: Any, portal: Portal) -> None:
    page = open_page("demo-analyst")
    page.goto(portal.url("/risk"))
    assert page.locator("h1").inner_text() == "Risk models"
    assert "No model trained yet" in page.locator("main").inner_text()
    drawn = chart(page, "hit-rates")
    assert drawn["title"] == "Hit rates by office"
    report = page.locator("#report tbody tr")
    assert report.count() >= 1  # the demo declarations were assessed at init
    offices_with_outcomes = len(drawn["bars"])
    assert offices_with_outcomes == len(drawn["labels"])
    assert all(0 <= v <= 1 for v, _ in drawn["bars"])
    screenshot(page, f"analyst-home-{portal.name}")
