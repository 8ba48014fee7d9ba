"""One call that gives an application the shared plumbing (the lead's app factory calls it)."""

from __future__ import annotations

from fastapi import FastAPI

from clearguard.api.middleware import BodyLimit, SecurityHeaders
from clearguard.api.problems import install_problem_handlers
from clearguard.config import Settings
from clearguard.identity import IdentityService


def install_api(app: FastAPI, *, settings: Settings, identity: IdentityService) -> None:
    """Problem handlers, hardening middleware and the identity service on app.state."""
    app.state.identity = identity
    install_problem_handlers(app)
    # Added last = outermost: size limit first, then headers on every answer including the 413.
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders, hsts_seconds=settings.api_hsts_seconds)
