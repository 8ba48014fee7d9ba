"""The API edge's intrusion checks (pure ASGI): the request's origin for the activity store, rate
limits per source, and the payload checks of clearguard.detection.edge. A refused request answers a
problem+json naming the field, reaches no route and no service, and becomes an activity event (so
it feeds the rules). Per-principal limits run once the token is checked (clearguard.api.security)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anyio
import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clearguard.detection.activity import Activity
from clearguard.detection.context import USER_AGENT_LIMIT, reset_origin, set_origin
from clearguard.detection.edge import Refusal, check_header, check_json, check_path, check_query, edge_action
from clearguard.detection.ratelimit import EdgeLimits
from clearguard.errors import PROBLEM_BASE, ClearGuardError

log = logging.getLogger("clearguard.api.edge")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# A flood is recorded once per key and interval, not once per refused request.
_RECORD_INTERVAL_S = 10.0

# (actor, role, office) of a refused request, from its bearer token or its login body.
Identify = Callable[[str | None, bytes], tuple[str, str, str | None]]
# Records an activity the edge saw; the second argument is the record it concerned as (type, id),
# which the recorder stores as a keyed reference.
Record = Callable[[Activity, tuple[str, str] | None], None]


def _problem(status: int, slug: str, title: str, detail: str, path: str, **extra: Any) -> bytes:
    body = {"type": PROBLEM_BASE + slug, "title": title, "status": status, "detail": detail, "instance": path}
    body.update(extra)
    return orjson.dumps(body)


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class DetectionEdge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: EdgeLimits | None,
        identify: Identify | None = None,
        record: Record | None = None,
    ) -> None:
        """`limits` None: the checks are off (the origin is still noted for the activity store)."""
        self.app = app
        self.limits = limits
        self.identify = identify
        self.record = record
        self._recorded: dict[str, float] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        source = client[0] if client else None
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        agent = next((v for k, v in headers if k == b"user-agent"), None)
        token = set_origin(source, agent[:USER_AGENT_LIMIT].decode("latin-1") if agent else None)
        status = 0

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            if self.limits is None:
                await self.app(scope, receive, watching)
            else:
                await self._guarded(scope, receive, watching, source, headers)
        finally:
            reset_origin(token)
        if status == 403 and any(k == b"authorization" for k, _ in headers):
            # A signed-in account refused by the access policy (another office's declaration
            # without break-glass, a route outside its role): denied activity, which the rules
            # and the model count.
            await self._note(scope, source, headers, b"", None, None)

    async def _guarded(
        self, scope: Scope, receive: Receive, send: Send, source: str | None, headers: list[tuple[bytes, bytes]]
    ) -> None:
        assert self.limits is not None
        path: str = scope.get("path", "")
        wait = self.limits.admit_source(source or "unknown")
        if wait is not None:
            detail = f"source: more than {self.limits.source} requests; retry in {wait} s"
            body = _problem(429, "too-many-requests", "Too many requests", detail, path, field="source")
            await _answer(send, 429, body, [(b"retry-after", str(wait).encode())])
            await self._note(scope, source, headers, b"", "source:" + (source or "unknown"))
            return
        refusal = check_path(scope.get("raw_path") or path.encode()) or check_query(scope.get("query_string", b""))
        if refusal is None:
            for name, value in headers:
                refusal = check_header(name.decode("latin-1"), value)
                if refusal is not None:
                    break
        body = b""
        if refusal is None and scope.get("method") in _BODY_METHODS:
            body, more = await _read_body(receive)
            if more is None:
                return  # the client went away
            if body and _is_json(headers, body):
                refusal = check_json(body)
            elif body:
                refusal = _guessed_encoding(headers, body)
            receive = _replay(body, receive)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        if _route_refuses(refusal):
            # Every route's own parser refuses a body that is not JSON, and its validation a NUL in
            # a value, before any service, with the problem its clients know (400 or 422 naming the
            # field): it answers; the edge records.
            await self.app(scope, receive, send)
            await self._note(scope, source, headers, b"", None, refusal)
            return
        await _answer(send, refusal.status, _refusal_body(refusal, path))
        await self._note(scope, source, headers, body, None, refusal)

    async def _note(
        self,
        scope: Scope,
        source: str | None,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        flood_key: str | None,
        refusal: Refusal | None = None,
    ) -> None:
        """Records the refused request as a denied activity event (a flood once per interval)."""
        if self.record is None:
            return
        if flood_key is not None:
            now = time.monotonic()
            if now - self._recorded.get(flood_key, 0.0) < _RECORD_INTERVAL_S:
                return
            if len(self._recorded) > 10_000:
                self._recorded.clear()
            self._recorded[flood_key] = now
        auth = next((v for k, v in headers if k == b"authorization"), None)
        bearer = auth[7:].decode("latin-1").strip() if auth and auth[:7].lower() == b"bearer " else None
        agent = next((v for k, v in headers if k == b"user-agent"), None)
        identify, record = self.identify, self.record
        path = str(scope.get("path", ""))
        mrn = path[len("/api/v1/declarations/") :].split("/", 1)[0] if path.startswith("/api/v1/declarations/") else ""
        target = ("declaration", mrn.upper()) if mrn and refusal is None else None

        def write() -> None:
            actor, role, office = identify(bearer, body) if identify else ("anonymous", "anonymous", None)
            record(
                Activity(
                    at=datetime.now(UTC),
                    actor=actor,
                    role=role,
                    office=office,
                    action=edge_action(str(scope.get("method", "GET")), str(scope.get("path", ""))),
                    outcome="denied",
                    source_ip=(source or "")[:64] or None,
                    user_agent=agent[:USER_AGENT_LIMIT].decode("latin-1") if agent else None,
                    record=None,
                    party=None,
                    count=1,
                    audit_event=None,
                ),
                target,
            )

        try:
            await anyio.to_thread.run_sync(write)
        except Exception:  # the refusal is already answered; losing its record must not fail it
            log.exception("could not record a refused request (%s)", refusal.rule if refusal else "rate limit")


def identify_with(authenticate: Callable[[str], Any]) -> Identify:
    """Who sent a refused request: the principal of its bearer token (if valid), else the username
    of a login body, else anonymous."""

    def identify(bearer: str | None, body: bytes) -> tuple[str, str, str | None]:
        if bearer:
            try:
                principal = authenticate(bearer)
                return principal.username, principal.role.value, principal.office
            except ClearGuardError:
                pass
        try:
            document = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            document = None
        name = document.get("username") if isinstance(document, dict) else None
        if isinstance(name, str) and name.strip():
            return name.strip().lower()[:64], "anonymous", None
        return "anonymous", "anonymous", None

    return identify


def _route_refuses(refusal: Refusal) -> bool:
    if refusal.rule == "malformed":
        return refusal.field == "body"
    return refusal.rule == "nul" and not refusal.field.startswith(("path", "header."))


def _refusal_body(refusal: Refusal, path: str) -> bytes:
    title = "Request too large" if refusal.rule == "oversized" else "Request blocked"
    return _problem(refusal.status, "request-blocked", title, refusal.detail, path, field=refusal.field,
                    rule=refusal.rule)  # fmt: skip


def _is_json(headers: list[tuple[bytes, bytes]], body: bytes) -> bool:
    kind = next((v for k, v in headers if k == b"content-type"), b"").lower()
    return b"json" in kind or body.lstrip()[:1] in (b"{", b"[")


def _guessed_encoding(headers: list[tuple[bytes, bytes]], body: bytes) -> Refusal | None:
    """Without a Content-Type the framework parses a body as JSON, guessing its encoding (UTF-16,
    UTF-32, a BOM): text the checks would not have read. Refused; a body that is none of these
    (a partner's package) goes on to its route."""
    if any(k == b"content-type" for k, _ in headers):
        return None
    if body.startswith(b"\xef\xbb\xbf") or json.detect_encoding(body) != "utf-8":
        return Refusal("body", "encoding")
    return None


async def _read_body(receive: Receive) -> tuple[bytes, bool | None]:
    """The whole body (BodyLimit, outside, caps its size); (b"", None) when the client left."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
