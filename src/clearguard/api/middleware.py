"""Hardening middleware (pure ASGI, so streaming and background tasks stay intact).

SecurityHeaders adds the headers every response carries; BodyLimit refuses bodies over the limit
before the application reads them, by Content-Length when given, else by counting the stream.
ScrubQueryValues keeps query values (EORIs, names searched for) out of the server's access log.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearguard.errors import PROBLEM_BASE

# For the server-rendered pages to come: only our own origin, no inline script, no framing.
STRICT_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# Swagger UI and ReDoc load from a CDN and run one inline bootstrap script.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
    "connect-src 'self'; worker-src blob:; frame-ancestors 'none'; base-uri 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")

BASE_HEADERS: Mapping[str, str] = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), "
    "publickey-credentials-get=(self), publickey-credentials-create=(self)",
}


def _encoded(headers: Mapping[str, str]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items())


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts_seconds: int = 63072000) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_seconds}; includeSubDomains" if hsts_seconds else None
        # Encoded once: (API or docs) x (plain HTTP or TLS). API answers carry data, so they are
        # never stored by browsers or shared caches (no-store).
        self._extra: dict[tuple[bool, bool], tuple[tuple[bytes, bytes], ...]] = {}
        for docs in (False, True):
            for tls in (False, True):
                extra = dict(BASE_HEADERS)
                extra["content-security-policy"] = DOCS_CSP if docs else STRICT_CSP
                extra["cache-control"] = "no-store"
                # HSTS only means something over TLS (RFC 6797 section 7.2: not sent over plain HTTP).
                if tls and self.hsts:
                    extra["strict-transport-security"] = self.hsts
                self._extra[docs, tls] = _encoded(extra)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        extra = self._extra[path.startswith(DOCS_PATHS), scope.get("scheme") == "https"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                # A header the response set itself wins (compared case-insensitively).
                present = {k.lower() for k, _ in headers}
                headers.extend(item for item in extra if item[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(HTTPException):
    """Raised from `receive`; an HTTPException so FastAPI's body reader passes it on unchanged and
    the problem handler answers 413 (any other exception there would become a vague 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body exceeds {limit} bytes")


async def _problem_413(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": PROBLEM_BASE + "request-too-large",
            "title": "Request too large",
            "status": 413,
            "detail": f"request body exceeds {limit} bytes",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.max_bytes + 1
                if declared > self.max_bytes:
                    await _problem_413(send, self.max_bytes)
                    return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _problem_413(send, self.max_bytes)


# ------------------------------------------------------------------ access log
_QUERY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-\[\]]{0,31}")


def scrub_query(target: str) -> str:
    """A request target with every query value replaced by `*`: `?party=GB555555555000&limit=5`
    logs as `?party=*&limit=*`. Values are what callers search for (EORIs, names, LRNs); names stay,
    unless they too look like data."""
    path, sep, query = target.partition("?")
    if not sep:
        return target
    names = []
    for part in query.split("&"):
        name, has_value, _value = part.partition("=")
        names.append(f"{name}=*" if has_value and _QUERY_NAME.fullmatch(name) else "*")
    return f"{path}?{'&'.join(names)}"


class ScrubQueryValues(logging.Filter):
    """On uvicorn's access logger: the logged request target loses its query values. uvicorn logs
    (client, method, target, http version, status) as the record's args; only the target changes."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], scrub_query(args[2]), *args[3:])
        return True


def access_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with the access log scrubbed of query values."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["scrub_query"] = {"()": f"{__name__}.ScrubQueryValues"}
    config["handlers"]["access"].setdefault("filters", []).append("scrub_query")
    return config
