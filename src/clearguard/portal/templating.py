"""One Jinja2Blocks environment (jinja2-fragments): whole pages, or one block of them for htmx.

Autoescape is on for every template. `render` adds what the base layout needs (the menu from the
permission table, the CSRF token, the signed-in principal) and the page headers (CSP, cookies).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2_fragments.fastapi import Jinja2Blocks

from clearguard.access.principal import Principal
from clearguard.portal.session import COOKIE, PRE_COOKIE, pre_binding, session_binding
from clearguard.portal.state import portal_of

TEMPLATES_DIR = Path(__file__).parent / "templates"
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# htmx's own indicator styles would be an inline <style>, which the CSP refuses.
HTMX_CONFIG = '{"includeIndicatorStyles":false,"allowScriptTags":false,"allowEval":false}'

templates = Jinja2Blocks(env=jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True))


def principal_of(request: Request) -> Principal | None:
    principal = getattr(request.state, "principal", None)
    return principal if isinstance(principal, Principal) else None


def csrf_token(request: Request) -> str:
    """The CSRF token for this request's session (or pre-session), as forms and htmx send it back."""
    portal = portal_of(request)
    principal = principal_of(request)
    if principal is not None:
        return portal.csrf.token(session_binding(principal))
    pre = getattr(request.state, "pre_cookie", None) or request.cookies.get(PRE_COOKIE, "")
    return portal.csrf.token(pre_binding(pre))


def set_cookie(response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    # __Host- prefix: Secure, Path=/, no Domain; the browser refuses it otherwise.
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict")


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="strict")


def finish(request: Request, response: Response) -> Response:
    """Headers every page answer carries: the pages' CSP, no caching, and cookie changes."""
    response.headers["content-security-policy"] = PAGE_CSP
    response.headers["cache-control"] = "no-store"
    # Same-origin only (the API's no-referrer otherwise): a refused form (step-up, sign-in) can send
    # the user back to the page it was on; nothing leaves for another site.
    response.headers["referrer-policy"] = "same-origin"
    renewed = getattr(request.state, "renewed_session", None)
    if isinstance(renewed, str) and COOKIE not in getattr(request.state, "cookies_set", ()):
        set_cookie(response, COOKIE, renewed)
    pre = getattr(request.state, "pre_cookie", None)
    if isinstance(pre, str) and request.cookies.get(PRE_COOKIE) != pre:
        set_cookie(response, PRE_COOKIE, pre)
    return response


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
) -> Response:
    """A page (or, with `block`, one block of it for htmx) with the layout's context filled in."""
    principal = principal_of(request)
    full: dict[str, Any] = {
        "principal": principal,
        "menu": portal_of(request).menu_for(principal.role) if principal is not None else [],
        "csrf": csrf_token(request),
        "htmx_config": HTMX_CONFIG,
        "path": request.url.path,
    }
    full.update(context or {})
    response: Response
    if block is not None:
        response = templates.TemplateResponse(request, template, full, status_code=status_code, block_name=block)
    else:
        response = templates.TemplateResponse(request, template, full, status_code=status_code)
    return finish(request, response)


def redirect(request: Request, location: str) -> Response:
    """303 to `location`; for htmx requests an HX-Redirect, which htmx follows as a full navigation."""
    if request.headers.get("hx-request") == "true":
        response: Response = HTMLResponse("", status_code=200, headers={"HX-Redirect": location})
    else:
        response = RedirectResponse(location, status_code=303)
    return finish(request, response)


def local_path(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this site (never `//host` or a scheme): no open redirects.

    Browsers drop tabs and newlines from a URL and read `\\` as `/`, so `/<TAB>/evil.example` would
    become `//evil.example` once it reaches `location.assign` or an `href`: any control character,
    whitespace or backslash refuses the target, and what passes must parse as a bare path."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return default
    return target
