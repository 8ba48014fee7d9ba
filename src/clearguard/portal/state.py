"""What the portal keeps on `app.state.portal`: the services and its own session and CSRF helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from clearguard.access.roles import Role
from clearguard.config import Settings
from clearguard.portal.page import Page
from clearguard.portal.session import Csrf, PortalSessions
from clearguard.wiring import Services


@dataclass(frozen=True, slots=True)
class PortalState:
    services: Services
    settings: Settings
    sessions: PortalSessions
    csrf: Csrf
    # From the permission table (given here so that page modules need not import the table that
    # imports them): a role's menu and where it lands after sign-in.
    menu_for: Callable[[Role], list[Page]]
    home_for: Callable[[Role], str]


def portal_of(request: Request) -> PortalState:
    state = getattr(request.app.state, "portal", None)
    if not isinstance(state, PortalState):
        raise RuntimeError("app.state.portal is not set: call clearguard.portal.install_portal")
    return state
