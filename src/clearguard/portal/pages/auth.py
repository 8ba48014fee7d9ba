"""Sign-in (password, then TOTP, a recovery code or a passkey), first-time TOTP enrolment, step-up,
sign-out and the account page. Every step is the identity service's, as the API's login routes use it.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

import segno
from fastapi import APIRouter, Body, Form, Query, Request
from fastapi.responses import JSONResponse, Response

from clearguard.access.errors import StepUpRequired
from clearguard.access.policy import require_recent_mfa
from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.api.security import source_of
from clearguard.errors import ClearGuardError
from clearguard.identity import InvalidToken
from clearguard.identity.sessions import TokenPair
from clearguard.portal.guard import PageRoute, page_guard
from clearguard.portal.page import Page
from clearguard.portal.session import COOKIE, MFA_COOKIE, Tokens
from clearguard.portal.state import portal_of
from clearguard.portal.templating import clear_cookie, finish, local_path, redirect, render, set_cookie

PAGES: tuple[Page, ...] = (
    Page("/", "GET", "view", Perm.SELF),
    Page("/login", "GET", "view", Perm.PUBLIC, heading="Sign in"),
    Page("/login", "POST", "sign-in", Perm.PUBLIC),
    Page("/login/code", "GET", "view", Perm.PUBLIC, heading="Second factor"),
    Page("/login/code", "POST", "sign-in", Perm.PUBLIC),
    Page("/login/recovery", "GET", "view", Perm.PUBLIC, heading="Recovery code"),
    Page("/login/recovery", "POST", "sign-in", Perm.PUBLIC),
    Page("/login/enrol", "GET", "view", Perm.PUBLIC, heading="Set up your authenticator"),
    Page("/login/enrol", "POST", "enrol", Perm.PUBLIC),
    Page("/login/passkey/options", "POST", "sign-in", Perm.PUBLIC),
    Page("/login/passkey", "POST", "sign-in", Perm.PUBLIC),
    Page("/step-up", "GET", "view", Perm.SELF, heading="Confirm it is you"),
    Page("/step-up", "POST", "step-up", Perm.SELF),
    Page("/logout", "POST", "sign-out", Perm.SELF),
    Page("/account", "GET", "view", Perm.SELF, menu="Account", heading="Your account"),
    Page("/account/passkey/options", "POST", "add-passkey", Perm.SELF),
    Page("/account/passkey", "POST", "add-passkey", Perm.SELF),
)
router = APIRouter(route_class=PageRoute, include_in_schema=False)

Public = Annotated[None, page_guard(Perm.PUBLIC)]
Self = Annotated[Principal, page_guard(Perm.SELF)]
Next = Annotated[str | None, Query(max_length=512)]
Code = Annotated[str, Form(min_length=1, max_length=64)]


def _mfa_token(request: Request) -> str | None:
    return request.cookies.get(MFA_COOKIE) or None


def _restart(request: Request, message: str) -> Response:
    response = render(request, "auth/login.html", {"error": message, "next": None})
    clear_cookie(response, MFA_COOKIE)
    return response


def _signed_in(request: Request, pair: TokenPair, back: str | None) -> tuple[Principal, Response]:
    """Open the portal session on `pair` and send the user on: to `back` or the role's home."""
    portal = portal_of(request)
    principal = portal.sessions.identity.authenticate(pair.access_token)
    request.state.principal = principal
    response = redirect(request, local_path(back, portal_of(request).home_for(principal.role)))
    _start_session(request, response, pair)
    return principal, response


def _start_session(request: Request, response: Response, pair: TokenPair) -> None:
    portal = portal_of(request)
    tokens = Tokens(pair.access_token, pair.refresh_token, int(portal.sessions.identity.clock.now().timestamp()))
    set_cookie(response, COOKIE, tokens.encode())
    request.state.cookies_set = (COOKIE,)
    clear_cookie(response, MFA_COOKIE)


def _next_of(request: Request) -> str | None:
    """The `next` the sign-in started with, carried in the second-factor page's URL."""
    value = parse_qs(urlsplit(str(request.url)).query).get("next")
    return value[0] if value else None


@router.get("/")
def home(request: Request, principal: Self) -> Response:
    return redirect(request, portal_of(request).home_for(principal.role))


@router.get("/login")
def login_page(request: Request, _: Public, next: Next = None) -> Response:
    return render(request, "auth/login.html", {"next": local_path(next, "") or None})


@router.post("/login")
def login(
    request: Request,
    _: Public,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=1024)],
    next: Annotated[str | None, Form(max_length=512)] = None,
) -> Response:
    identity = portal_of(request).sessions.identity
    try:
        step = identity.login(username, password, source=source_of(request))
    except ClearGuardError as exc:
        # The form again, with the reason (200: the page works; a 4xx document is a console error).
        context = {"error": exc.title, "next": local_path(next, "") or None, "username": username}
        return render(request, "auth/login.html", context)
    back = local_path(next, "")
    suffix = f"?next={back}" if back else ""
    response = redirect(request, ("/login/enrol" if step.enrolment_required else "/login/code") + suffix)
    set_cookie(response, MFA_COOKIE, step.mfa_token, max_age=identity.settings.auth_mfa_token_seconds)
    return response


@router.get("/login/code")
def code_page(request: Request, _: Public, next: Next = None) -> Response:
    if _mfa_token(request) is None:
        return redirect(request, "/login")
    return render(request, "auth/code.html", {"next": local_path(next, "") or None})


@router.post("/login/code")
def code(request: Request, _: Public, code: Code, next: Annotated[str | None, Form(max_length=512)] = None) -> Response:
    return _second_factor(request, "auth/code.html", code, next, recovery=False)


@router.get("/login/recovery")
def recovery_page(request: Request, _: Public, next: Next = None) -> Response:
    if _mfa_token(request) is None:
        return redirect(request, "/login")
    return render(request, "auth/recovery.html", {"next": local_path(next, "") or None})


@router.post("/login/recovery")
def recovery(
    request: Request,
    _: Public,
    recovery_code: Annotated[str, Form(min_length=1, max_length=64)],
    next: Annotated[str | None, Form(max_length=512)] = None,
) -> Response:
    return _second_factor(request, "auth/recovery.html", recovery_code, next, recovery=True)


def _second_factor(request: Request, template: str, code: str, back: str | None, *, recovery: bool) -> Response:
    mfa = _mfa_token(request)
    if mfa is None:
        return _restart(request, "Your sign-in took too long: start again.")
    identity = portal_of(request).sessions.identity
    try:
        if recovery:
            pair = identity.recovery_login(mfa, code.strip(), source=source_of(request))
        else:
            pair = identity.totp_login(mfa, code.strip(), source=source_of(request))
    except InvalidToken:
        return _restart(request, "Your sign-in expired or had too many wrong codes: start again.")
    except ClearGuardError as exc:
        return render(request, template, {"error": exc.title, "next": local_path(back, "") or None})
    return _signed_in(request, pair, back)[1]


@router.get("/login/enrol")
def enrol_page(request: Request, _: Public, next: Next = None) -> Response:
    return _enrolment(request, next, error=None)


def _enrolment(request: Request, back: str | None, *, error: str | None) -> Response:
    mfa = _mfa_token(request)
    if mfa is None:
        return redirect(request, "/login")
    identity = portal_of(request).sessions.identity
    try:
        enrolment = identity.totp_enroll(mfa, source=source_of(request))
    except InvalidToken:
        return _restart(request, "Your sign-in took too long: start again.")
    except ClearGuardError as exc:
        return _restart(request, exc.title)
    # An <img> with a data: URI: the CSP allows it, where inline SVG markup could carry styles.
    qr = segno.make(enrolment.otpauth_uri, error="m").svg_data_uri(scale=5, border=2)
    context = {"qr": qr, "secret": enrolment.secret, "next": local_path(back, "") or None, "error": error}
    return render(request, "auth/enrol.html", context)


@router.post("/login/enrol")
def enrol(
    request: Request, _: Public, code: Code, next: Annotated[str | None, Form(max_length=512)] = None
) -> Response:
    mfa = _mfa_token(request)
    if mfa is None:
        return _restart(request, "Your sign-in took too long: start again.")
    identity = portal_of(request).sessions.identity
    try:
        confirmed = identity.totp_confirm(mfa, code.strip(), source=source_of(request))
    except InvalidToken:
        return _restart(request, "Your sign-in expired or had too many wrong codes: start again.")
    except ClearGuardError as exc:
        return _enrolment(request, next, error=exc.title)
    principal = identity.authenticate(confirmed.tokens.access_token)
    request.state.principal = principal
    # The recovery codes are shown once, on this answer, never stored in clear.
    home = portal_of(request).home_for(principal.role)
    context = {"codes": confirmed.recovery_codes, "continue_to": local_path(next, home)}
    response = render(request, "auth/recovery_codes.html", context)
    _start_session(request, response, confirmed.tokens)
    return response


@router.post("/login/passkey/options")
def passkey_options(request: Request, _: Public) -> Response:
    mfa = _mfa_token(request)
    if mfa is None:
        return finish(request, JSONResponse({"error": "sign in with your password first"}, status_code=401))
    try:
        options = portal_of(request).sessions.identity.webauthn_login_options(mfa)
    except ClearGuardError as exc:
        return finish(request, JSONResponse({"error": exc.title}, status_code=exc.status))
    return finish(request, JSONResponse(options))


@router.post("/login/passkey")
def passkey(request: Request, _: Public, credential: Annotated[dict[str, Any], Body(embed=True)]) -> Response:
    mfa = _mfa_token(request)
    if mfa is None:
        return finish(request, JSONResponse({"error": "sign in with your password first"}, status_code=401))
    identity = portal_of(request).sessions.identity
    try:
        pair = identity.webauthn_login(mfa, credential, source=source_of(request))
    except ClearGuardError as exc:
        return finish(request, JSONResponse({"error": exc.title}, status_code=401))
    principal = identity.authenticate(pair.access_token)
    request.state.principal = principal
    home = portal_of(request).home_for(principal.role)
    response = finish(request, JSONResponse({"location": local_path(_next_of(request), home)}))
    _start_session(request, response, pair)
    return response


@router.get("/step-up")
def step_up_page(request: Request, principal: Self, next: Next = None) -> Response:
    return render(request, "auth/step_up.html", {"next": local_path(next)})


@router.post("/step-up")
def step_up(
    request: Request, principal: Self, code: Code, next: Annotated[str | None, Form(max_length=512)] = None
) -> Response:
    identity = portal_of(request).sessions.identity
    try:
        identity.step_up_totp(principal, code.strip(), source=source_of(request))
    except ClearGuardError as exc:
        return render(request, "auth/step_up.html", {"next": local_path(next), "error": exc.title})
    return redirect(request, local_path(next))


@router.post("/logout")
def logout(request: Request, principal: Self) -> Response:
    portal_of(request).sessions.identity.logout(principal, source=source_of(request))
    request.state.cookies_set = (COOKIE,)
    response = redirect(request, "/login")
    clear_cookie(response, COOKIE)
    return response


@router.get("/account")
def account(request: Request, principal: Self, passkey: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    today = portal_of(request).sessions.identity.clock.now().date()
    context = {"mandates": sorted(principal.mandated_parties(today)), "passkey_added": passkey == "added"}
    return render(request, "auth/account.html", context)


def _fresh(request: Request, principal: Principal) -> Response | None:
    """Adding a passkey needs a recent second factor, as the API's /webauthn/register does: a stolen
    session cannot plant a lasting authenticator. None when fresh, else the step-up to do first."""
    identity = portal_of(request).sessions.identity
    try:
        require_recent_mfa(principal, identity.clock.now(), window_seconds=identity.settings.auth_step_up_seconds)
    except StepUpRequired as exc:
        body = {"error": exc.title, "step_up": "/step-up?next=/account"}
        return finish(request, JSONResponse(body, status_code=401))
    return None


@router.post("/account/passkey/options")
def passkey_register_options(request: Request, principal: Self) -> Response:
    refused = _fresh(request, principal)
    if refused is not None:
        return refused
    return finish(request, JSONResponse(portal_of(request).sessions.identity.webauthn_register_options(principal)))


@router.post("/account/passkey")
def passkey_register(
    request: Request,
    principal: Self,
    credential: Annotated[dict[str, Any], Body()],
    name: Annotated[str, Body(min_length=1, max_length=64)] = "passkey",
) -> Response:
    refused = _fresh(request, principal)
    if refused is not None:
        return refused
    try:
        portal_of(request).sessions.identity.webauthn_register(principal, credential, name=name)
    except ClearGuardError as exc:
        return finish(request, JSONResponse({"error": exc.title}, status_code=exc.status))
    return finish(request, JSONResponse({"location": "/account?passkey=added"}))
