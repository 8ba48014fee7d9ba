"""RFC 9457 problem+json for every error the API answers, each with a stable `type`.

Validation errors name the field and the rule but never echo the input (it may be a password).
Unexpected exceptions answer a bare 500 problem: no stack trace, no message.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from clearguard.errors import PROBLEM_BASE, ClearGuardError, Unauthenticated

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("clearguard.api")

_HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("request-too-large", "Request too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("too-many-requests", "Too many requests"),
}


def problem_response(problem: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(problem, status_code=int(problem["status"]), media_type=PROBLEM_JSON, headers=headers)


def problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail}
    body.update(extra)
    return body


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where, rest = parts[0], parts[1:]
        return ".".join(rest) if where == "body" and rest else ".".join([where, *rest])
    return ".".join(parts)


async def _clearguard_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ClearGuardError)
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="clearguard"'
    retry_after = exc.extra.get("retry_after")
    if isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    if exc.status >= 500:
        log.error("server error %s: %s", exc.slug, exc.detail)
    return problem_response(exc.to_problem(instance=request.url.path), headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem_response(
            problem(
                400,
                "unreadable-input",
                "Input cannot be read",
                "request body is not valid JSON",
                instance=request.url.path,
            )
        )
    findings = [
        {
            "field": _field(e.get("loc", ())),
            "rule": str(e.get("type", "invalid")),
            "message": str(e.get("msg", "")),
        }
        for e in errors
    ]
    first = findings[0] if findings else {"field": "", "message": "invalid request"}
    return problem_response(
        problem(
            422,
            "request-invalid",
            "Request does not match the API",
            f"{first['field']}: {first['message']}" if first["field"] else str(first["message"]),
            instance=request.url.path,
            errors=findings,
        )
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug, title = _HTTP_SLUGS.get(exc.status_code, (f"http-{exc.status_code}", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404:
        detail = f"no resource at {request.url.path}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    return problem_response(
        problem(exc.status_code, slug, title, detail, instance=request.url.path), dict(exc.headers or {})
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(
        problem(
            500,
            "internal-error",
            "Internal error",
            "the server failed to answer; the error was logged",
            instance=request.url.path,
        )
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ClearGuardError, _clearguard_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
