"""The auditor in a real browser: audit search (itself audited), decisions over time, ledger
verification."""

from __future__ import annotations

from typing import Any

from tests.e2e.portal.conftest import Portal, screenshot
from tests.e2e.portal.roles_env import chart


def test_auditor_searches_the_trail_and_the_search_is_recorded(open_page: Any, portal: Portal) -> None:
    page = open_page("demo-auditor")
    page.goto(portal.url("/audit"))
    assert page.locator("h1").inner_text() == "Audit trail"
    drawn = chart(page, "decisions-over-time")
    assert len(drawn["bars"]) == 14 and drawn["title"] == "Decisions over time"
    page.get_by_label("Action").fill("auth.login")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    assert "auth.login" in page.locator("#audit-results").inner_text()
    assert "?" not in page.url  # the filters travel in the form body, not the URL
    page.get_by_label("Action").fill("audit.search")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    assert "demo-auditor" in page.locator("#audit-results").inner_text()
    page.get_by_label("From (YYYY-MM-DD)").fill("2026-01-01")
    screenshot(page, f"auditor-home-{portal.name}")


def test_ledger_status_and_verification(open_page: Any, portal: Portal) -> None:
    page = open_page("demo-auditor")
    page.goto(portal.url("/audit/ledger"))
    assert page.locator("h1").inner_text() == "Ledger"
    assert int(page.locator("#ledger-size").inner_text()) > 0
    page.get_by_role("button", name="Verify the ledger").click()
    page.locator("#verify-result").wait_for()
    assert page.locator("#verify-result").inner_text().startswith("Verified:")
