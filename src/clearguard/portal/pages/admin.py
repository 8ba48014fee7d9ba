"""The administrator's pages: accounts (role, party, office, second factor, brokers' mandates) with
disable, enable and second-factor reset, the roles and their permissions, and the key-encryption keys'
status (clearguard.portal.boards.admin). Viewing needs the administrators' own permission
(Perm.CONFIG_MANAGE); every action on an account asks for a recent second factor (Perm.USERS_MANAGE
is a step-up permission)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.api.security import source_of
from clearguard.identity.service import ADMIN_ACTIONS
from clearguard.portal.boards import admin
from clearguard.portal.guard import PageRoute, page_guard
from clearguard.portal.page import Page
from clearguard.portal.state import portal_of
from clearguard.portal.templating import redirect, render

PAGES: tuple[Page, ...] = (
    Page("/admin/accounts", "GET", "view", Perm.CONFIG_MANAGE, menu="Accounts", heading="Accounts"),
    Page("/admin/accounts", "POST", "administer", Perm.USERS_MANAGE),
    Page("/admin/keys", "GET", "view", Perm.CONFIG_MANAGE, menu="Keys", heading="Keys"),
)
router = APIRouter(route_class=PageRoute, include_in_schema=False)

AdminViewer = Annotated[Principal, page_guard(Perm.CONFIG_MANAGE)]
UserAdmin = Annotated[Principal, page_guard(Perm.USERS_MANAGE)]
Text = Annotated[str | None, Form(max_length=128)]


@router.get("/admin/accounts")
def accounts(request: Request, principal: AdminViewer) -> Response:
    services = portal_of(request).services
    view = admin.overview(services.identity, services.crypto, services.session_factory)
    return render(request, "admin/accounts.html", {"view": view, "actions": list(ADMIN_ACTIONS)})


@router.post("/admin/accounts")
def administer(request: Request, principal: UserAdmin, username: Text = None, action: Text = None) -> Response:
    admin.administer(
        portal_of(request).services.identity, principal, (username or "").strip(), action or "",
        source=source_of(request),
    )  # fmt: skip
    return redirect(request, "/admin/accounts")


@router.get("/admin/keys")
def keys(request: Request, principal: AdminViewer) -> Response:
    services = portal_of(request).services
    return render(request, "admin/keys.html", {"keys": admin.key_status(services.crypto, services.session_factory)})
