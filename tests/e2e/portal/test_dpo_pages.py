"""The DPO in a real browser: policies, a legal hold placed and released, agreements, requests."""

from __future__ import annotations

from typing import Any

from tests.e2e.portal.conftest import Portal, screenshot


def test_dpo_adds_and_releases_a_hold(open_page: Any, portal: Portal) -> None:
    mrn = portal.demo_mrns["h1-import.json"]
    page = open_page("demo-dpo")
    page.goto(portal.url("/privacy"))
    assert page.locator("h1").inner_text() == "Privacy"
    assert page.locator("#policies tbody tr").count() >= 1
    page.get_by_label("or MRN").fill(mrn)
    page.get_by_label("Owner").fill("legal department")
    page.get_by_label("Case").fill("APPEAL-2026-7")
    page.get_by_label("Reason", exact=True).fill("appeal pending before the tribunal")
    page.get_by_role("button", name="Place hold").click()
    page.wait_for_load_state()
    holds = page.locator("#holds")
    assert "APPEAL-2026-7" in holds.inner_text()
    screenshot(page, f"dpo-home-{portal.name}")
    row = holds.locator("tbody tr", has_text="APPEAL-2026-7")
    row.get_by_label("Release reason").fill("appeal withdrawn")
    row.get_by_role("button").click()
    page.wait_for_load_state()
    assert "APPEAL-2026-7" not in page.locator("main").inner_text()


def test_a_hold_with_two_targets_is_refused_with_the_field_named(signed_in: Any, portal: Portal) -> None:
    page = signed_in("demo-dpo").new_page()  # not console-watched: the refusal is a 400 page
    page.goto(portal.url("/privacy"))
    page.locator("#add-hold").get_by_label("Trader EORI").fill("GB123456789000")
    page.get_by_label("or MRN").fill(portal.demo_mrns["h1-import.json"])
    page.get_by_label("Owner").fill("legal")
    page.get_by_label("Reason", exact=True).fill("both given")
    page.get_by_role("button", name="Place hold").click()
    page.wait_for_load_state()
    assert "party: give either" in page.locator("main").inner_text()
    page.goto(portal.url("/privacy"))
    assert "both given" not in page.locator("main").inner_text()  # nothing was stored
    page.close()
