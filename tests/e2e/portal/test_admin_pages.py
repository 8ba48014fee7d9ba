"""The administrator in a real browser: accounts with mandates, roles, key status; no declarations."""

from __future__ import annotations

from typing import Any

from tests.e2e.portal.conftest import Portal, screenshot


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
