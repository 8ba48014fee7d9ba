"""The administrator in a real browser: accounts with mandates, roles, key status; no declarations."""

from __future__ import annotations

from typing import Any

from tests.e2e.portal.conftest import Portal, screenshot
from tests.e2e.portal.roles_env import fresh_second_factor


def test_admin_sees_accounts_mandates_and_keys(open_page: Any, portal: Portal) -> None:
    page = open_page("demo-admin")
    page.goto(portal.url("/admin/accounts"))
    assert page.locator("h1").inner_text() == "Accounts"
    broker = page.locator("#accounts tbody tr", has_text="demo-broker")
    assert "GB123456789000" in broker.inner_text()
    assert "declarations:decide*" in page.locator("#roles").inner_text()
    screenshot(page, f"admin-home-{portal.name}")
    page.goto(portal.url("/admin/keys"))
    assert page.locator("h1").inner_text() == "Keys"
    assert page.locator("#kek-versions tbody tr").count() >= 1


def test_admin_disables_and_enables_another_account_with_step_up(open_page: Any, portal: Portal) -> None:
    page = open_page("demo-admin")
    fresh_second_factor(page, portal, "demo-admin", "/admin/accounts")
    for action, state in (("disable", "disabled"), ("enable", "active")):
        page.goto(portal.url("/admin/accounts"))
        row = page.locator("#accounts tbody tr", has_text="demo-partner")
        row.get_by_label("Action for demo-partner").select_option(action)
        row.get_by_role("button", name="Apply").click()
        page.wait_for_load_state()
        assert state in page.locator("#accounts tbody tr", has_text="demo-partner").inner_text()
    own = page.locator("#accounts tbody tr", has_text="demo-admin")
    assert own.get_by_role("button").count() == 0  # never one's own account
