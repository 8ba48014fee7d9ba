"""Every page route depends on `page_guard(PERMISSION)`; `PageRoute` turns refusals into pages.

The guard reads the session cookie (no session: a GET goes to /login and comes back, anything else
is refused), checks the CSRF token of every state-changing request, then asks
`clearguard.api.security.authorize`, the one permission decision the API's routes use too. A
missing recent second factor sends the user through /step-up and back. The dependency carries the
same marker as the API's `require` (PERMISSION_ATTR), so the API's walker and the portal's twin
(clearguard.portal.walker) both see the page's permission.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute

from clearguard.access.errors import StepUpRequired
from clearguard.access.principal import Principal
from clearguard.access.roles import Perm, known_permissions
from clearguard.api.security import PERMISSION_ATTR, authorize, source_of
from clearguard.errors import ClearGuardError, Forbidden, NotFound, Unauthenticated
from clearguard.identity import InvalidToken
from clearguard.portal.session import (
    COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    PRE_COOKIE,
    new_pre_cookie,
    pre_binding,
    session_binding,
)
from clearguard.portal.state import portal_of
from clearguard.portal.templating import redirect, render

log = logging.getLogger(__name__)
SAFE_METHODS = frozenset({"GET", "HEAD"})


class SignInRequired(Exception):
    """No live portal session."""


class CsrfRefused(Forbidden):
    slug = "csrf"
    title = "The form's security token is missing or wrong: reload the page and try again"


class StepUpNeeded(Exception):
    def __init__(self, back: str) -> None:
        super().__init__("step-up")
        self.back = back


async def _csrf_presented(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # cached on the request: the endpoint's Form() reads it again
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _back_to(request: Request) -> str:
    """Where to return after sign-in or step-up: this page for a GET, the page the form was on
    otherwise (its Referer, when it is ours)."""
    if request.method in SAFE_METHODS:
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = request.headers.get("referer", "")
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return referer[len(origin) :] if referer.startswith(origin + "/") else "/"


def page_guard(permission: str) -> Any:
    """The dependency of a page route: `principal: Annotated[Principal, page_guard(Perm.X)]`, or
    in `dependencies=[...]`. Public pages (sign-in) get None and a pre-session CSRF binding."""
    if permission not in known_permissions():
        raise ValueError(f"unknown permission {permission!r}: add it to clearguard.access.roles.Perm")

    async def guard(request: Request) -> Principal | None:
        portal = portal_of(request)
        if permission == Perm.PUBLIC:
            pre = request.cookies.get(PRE_COOKIE)
            if request.method not in SAFE_METHODS and (
                not pre or not portal.csrf.valid(pre_binding(pre), await _csrf_presented(request))
            ):
                raise CsrfRefused("csrf: missing or wrong token")
            request.state.pre_cookie = pre or new_pre_cookie()
            return None
        try:
            principal, renewed = portal.sessions.resolve(request.cookies.get(COOKIE), source=source_of(request))
        except InvalidToken:
            raise SignInRequired() from None
        request.state.principal = principal
        if renewed is not None:
            request.state.renewed_session = renewed.encode()
        if request.method not in SAFE_METHODS and not portal.csrf.valid(
            session_binding(principal), await _csrf_presented(request)
        ):
            raise CsrfRefused("csrf: missing or wrong token")
        try:
            authorize(request, principal, permission)
        except StepUpRequired:
            raise StepUpNeeded(_back_to(request)) from None
        return principal

    guard.__name__ = "page_" + permission.replace(":", "_").replace("-", "_")
    setattr(guard, PERMISSION_ATTR, permission)
    return Depends(guard)


def error_page(request: Request, status: int, title: str, detail: str) -> Response:
    context = {"status": status, "title": title, "detail": detail}
    return render(request, "errors/error.html", context, status_code=status)


class PageRoute(APIRoute):
    """A page route: refusals and errors become pages (or redirects), never a 500 or a stack trace."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handle(request)
            except SignInRequired:
                if request.method in SAFE_METHODS:
                    return redirect(request, "/login?next=" + quote(_back_to(request), safe="/"))
                return error_page(request, 403, "Signed out", "Your session has ended: sign in again.")
            except StepUpNeeded as need:
                return redirect(request, "/step-up?next=" + quote(need.back, safe="/"))
            except RequestValidationError as exc:
                fields = ", ".join(".".join(str(p) for p in e.get("loc", ())[1:]) or "request" for e in exc.errors())
                if any(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
                    return error_page(request, 404, "Not found", "No such page.")
                return error_page(request, 400, "Bad request", f"Check these fields: {fields}.")
            except ClearGuardError as exc:
                if isinstance(exc, CsrfRefused):
                    return error_page(request, 403, "Forbidden", exc.title)
                if isinstance(exc, Forbidden):
                    return error_page(request, 403, "Forbidden", str(exc))
                if isinstance(exc, Unauthenticated):
                    return error_page(request, 401, exc.title, str(exc))
                if isinstance(exc, NotFound):
                    return error_page(request, 404, "Not found", str(exc))
                if exc.status >= 500:
                    log.exception("page %s failed", request.url.path)
                    return error_page(request, 500, "Something went wrong", "The error has been logged.")
                return error_page(request, exc.status, exc.title, str(exc))

        return page
