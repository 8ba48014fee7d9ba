"""The portal: server-rendered pages (Jinja2 + htmx) at the root of the API's HTTPS server.

`install_portal` (called by clearguard.app.create_app) mounts every page module's router, not in the
OpenAPI description, and keeps the portal's session and CSRF helpers on `app.state.portal`.

How a page is added (for each area: officer, analyst, auditor, dpo, admin, security, charts):
1. `pages/<area>.py` with `PAGES: tuple[Page, ...]` (its rows of the permission table: path, method,
   action, permission, menu label for GET pages in the menu, `sample` path params and the page's
   `heading` for the e2e matrix) and `router = APIRouter(route_class=PageRoute, include_in_schema=False)`.
2. Each route depends on `page_guard(Perm.X)` with the same permission as its row, e.g.
   `principal: Annotated[Principal, page_guard(Perm.DECLARATIONS_DECIDE)]`; it renders with
   `templating.render(request, "<area>/<page>.html", context, block=None)`, and its templates extend
   `base.html` (`{% block title %}`, `{% block content %}`, `{% block head %}` for a page's own
   script file: no inline script or style, the CSP refuses them). Every form has
   `{% include "_csrf.html" %}`; htmx requests (hx-boost included) carry the token in the
   X-CSRF-Token header from the layout's `hx-headers`. A refusal raised in a route (Forbidden,
   NotFound, InputError...) becomes an error page through `guard.PageRoute`; a page that needs a
   recent second factor gets it from `page_guard` (step-up form, then back).
3. Add the module to `pages.MODULES` (order is menu order). The walker test
   (tests/unit/portal/test_walker.py) fails if the routes and the table differ, the e2e matrix
   (tests/e2e/portal/test_matrix.py) then checks every role on the new pages by itself.
"""

from __future__ import annotations

from fastapi import FastAPI

from clearguard.config import Settings
from clearguard.portal.pages import MODULES
from clearguard.portal.permissions import PAGES, Page, allowed, home_for, menu_for
from clearguard.portal.session import Csrf, PortalSessions
from clearguard.portal.state import PortalState
from clearguard.wiring import Services


def install_portal(app: FastAPI, *, services: Services, settings: Settings) -> None:
    """Mount the pages at `/` (API stays under /api/v1, /health and /ledger) and /static/."""
    app.state.portal = PortalState(
        services=services,
        settings=settings,
        sessions=PortalSessions(services.identity),
        csrf=Csrf.from_settings(settings),
        menu_for=menu_for,
        home_for=home_for,
    )
    for module in MODULES:
        app.include_router(module.router, include_in_schema=False)


__all__ = ["PAGES", "Page", "allowed", "install_portal", "menu_for"]
