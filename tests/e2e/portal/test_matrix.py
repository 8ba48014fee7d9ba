"""The generated matrix: every GET page of the permission table x every role, allowed -> 200 with
the page's heading, denied -> 403; each role's menu equals menu_for(role); axe-core finds no serious
or critical violation on any page; a screenshot of each role's home goes to var/screenshots/."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from clearguard.access.roles import Perm, Role
from clearguard.portal.permissions import PAGES, Page, allowed, home_for, menu_for
from tests.e2e.portal.conftest import SECURITY_USER, ConsoleLog, Portal, screenshot

GET_PAGES = [p for p in PAGES if p.method == "GET" and p.heading is not None and p.permission != Perm.PUBLIC]
PUBLIC_PAGES = [p for p in PAGES if p.method == "GET" and p.heading is not None and p.permission == Perm.PUBLIC]
# Pages with more than one route parameter or one the table gives no sample for cannot be opened.
ROLES = [r for r in Role]


def _username(portal: Portal, role: Role) -> str:
    if role is Role.SECURITY:
        return SECURITY_USER
    return portal.account_for_role(role.value).username


def _url(portal: Portal, page: Page) -> str | None:
    path = page.path
    for name, value in (page.sample or {}).items():
        if value.startswith("demo:"):
            value = portal.demo_mrns[value.removeprefix("demo:")]
        path = path.replace("{" + name + "}", value)
    return None if "{" in path else path


def _serious(page: Any) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_every_page_allows_or_denies_each_role_as_the_table_says(
    open_page: Any, portal: Portal, role: Role, console: ConsoleLog
) -> None:
    console.allow(r"status of 403 \(Forbidden\)")  # the denied pages, on purpose
    page = open_page(_username(portal, role))
    failures: list[str] = []
    for row in GET_PAGES:
        url = _url(portal, row)
        if url is None:
            continue
        answer = page.goto(url)
        assert answer is not None
        heading = page.locator("h1").first.inner_text()
        if allowed(role, row):
            if answer.status != 200 or row.heading not in heading:
                failures.append(f"{row.path}: expected 200 with {row.heading!r}, got {answer.status} {heading!r}")
        elif answer.status != 403 or heading != "Forbidden":
            failures.append(f"{row.path}: expected 403, got {answer.status} {heading!r}")
    assert failures == []

    # The menu shown is the table's menu for the role, in its order.
    page.goto(home_for(role))
    shown = [(a.get_attribute("href"), a.inner_text()) for a in page.locator("nav .menu a").all()]
    assert shown == [(p.path, p.menu) for p in menu_for(role)]
    screenshot(page, f"{portal.name}-{role.value}-home")


def test_axe_finds_no_serious_or_critical_violation_on_any_page(open_page: Any, portal: Portal, browser: Any) -> None:
    violations: dict[str, list[str]] = {}
    checked: set[str] = set()
    for role in ROLES:
        page = open_page(_username(portal, role))
        # Each page once (by the first role allowed to see it), and every role's home (its menu).
        for row in GET_PAGES:
            url = _url(portal, row)
            if url is None or row.path in checked or not allowed(role, row):
                continue
            checked.add(row.path)
            page.goto(url)
            if found := _serious(page):
                violations[f"{role.value} {url}"] = found
        page.goto(home_for(role))
        if found := _serious(page):
            violations[f"{role.value} home"] = found
    # The sign-in pages, signed out.
    context = browser.new_context(base_url=portal.base_url)
    try:
        anonymous = context.new_page()
        for row in PUBLIC_PAGES:
            anonymous.goto(row.path)
            if found := _serious(anonymous):
                violations[f"anonymous {row.path}"] = found
    finally:
        context.close()
    assert violations == {}
    assert checked == {p.path for p in GET_PAGES if _url(portal, p) is not None}
