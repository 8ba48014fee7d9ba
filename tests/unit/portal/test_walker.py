"""The walker's twin for pages: every page route declares exactly one permission, and the routes
served are exactly the permission table's rows (path, method, permission)."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI

from clearguard.access.roles import Perm, Role
from clearguard.api.walker import undeclared
from clearguard.portal import permissions
from clearguard.portal.guard import PageRoute, page_guard
from clearguard.portal.pages import MODULES
from clearguard.portal.walker import declared, served


@pytest.fixture
def app() -> FastAPI:
    """The page routers as install_portal mounts them (the whole app's walk: tests/integration/portal)."""
    application = FastAPI()
    for module in MODULES:
        application.include_router(module.router, include_in_schema=False)
    return application


def test_page_routes_equal_the_permission_table(app: FastAPI) -> None:
    assert served(app) == declared()


def test_every_route_of_the_app_declares_one_permission(app: FastAPI) -> None:
    assert undeclared(app) == []


def test_a_page_without_a_row_or_with_another_permission_is_caught(app: FastAPI) -> None:
    router = APIRouter(route_class=PageRoute)

    @router.get("/forgotten", dependencies=[page_guard(Perm.AUDIT_READ)])
    def forgotten() -> None:
        return None

    app.include_router(router)
    assert served(app) - declared() == {("/forgotten", "GET", Perm.AUDIT_READ)}


def test_menus_come_from_the_table_and_the_roles() -> None:
    trader = [p.path for p in permissions.menu_for(Role.TRADER)]
    assert "/declarations" in trader
    # Separation of duties: no declaration page in an administrator's menu.
    assert all(not p.path.startswith("/declarations") for p in permissions.menu_for(Role.ADMIN))
    for role in Role:
        for page in permissions.menu_for(role):
            assert page.method == "GET" and page.permission != Perm.PUBLIC
            assert permissions.allowed(role, page)


def test_unknown_permission_is_refused_when_the_row_is_written() -> None:
    with pytest.raises(ValueError, match="unknown permission"):
        permissions.Page("/x", "GET", "view", "declarations:everything")
