"""The one permission table of the portal: page (route x method) -> action -> permission -> menu.

Each page module declares its rows (`PAGES`); this module joins them into `PAGES`. The guards (each
route's `page_guard(permission)` must equal its row: tests/unit/portal/test_walker.py proves it), the
menus a role sees and the generated end-to-end matrix (tests/e2e/portal/test_matrix.py) all read this
one table. Which role holds which permission is `clearguard.access.roles.ROLE_PERMISSIONS`, never
copied here.
"""

from __future__ import annotations

from clearguard.access.roles import Perm, Role, holds
from clearguard.portal.page import Page
from clearguard.portal.pages import MODULES


def _join() -> tuple[Page, ...]:
    joined: list[Page] = []
    seen: set[tuple[str, str]] = set()
    for module in MODULES:
        for page in module.PAGES:
            if (page.path, page.method) in seen:
                raise ValueError(f"page {page.method} {page.path} declared twice")
            seen.add((page.path, page.method))
            joined.append(page)
    return tuple(joined)


PAGES: tuple[Page, ...] = _join()
_BY_ROUTE = {(p.path, p.method): p for p in PAGES}


def allowed(role: Role, page: Page) -> bool:
    return holds(role, page.permission)


def menu_for(role: Role) -> list[Page]:
    """A role's menu: the labelled GET pages whose permission it holds (sign-in pages have no label)."""
    return [p for p in PAGES if p.menu is not None and p.permission != Perm.PUBLIC and allowed(role, p)]


def page_for(path: str, method: str) -> Page | None:
    return _BY_ROUTE.get((path, method))


def home_for(role: Role) -> str:
    """Where a role lands after sign-in: its first menu entry (a trader or broker: its declarations)."""
    menu = menu_for(role)
    return menu[0].path if menu else "/account"


__all__ = ["PAGES", "Page", "allowed", "home_for", "menu_for", "page_for"]
