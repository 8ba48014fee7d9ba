"""One call that gives an application the shared plumbing (the lead's app factory calls it)."""

from __future__ import annotations

from fastapi import FastAPI

from clearguard.api.edge import DetectionEdge, identify_with
from clearguard.api.middleware import BodyLimit, SecurityHeaders
from clearguard.api.problems import install_problem_handlers
from clearguard.config import Settings
from clearguard.detection.ratelimit import EdgeLimits
from clearguard.detection.service import DetectionService
from clearguard.identity import IdentityService
from clearguard.training import TrainingService


def install_api(
    app: FastAPI,
    *,
    settings: Settings,
    identity: IdentityService,
    detection: DetectionService | None = None,
    training: TrainingService | None = None,
) -> None:
    """Problem handlers, hardening middleware and the identity service on app.state; with `training`,
    the training gate that `authorize` applies to privileged roles (create_app always passes it)."""
    app.state.identity = identity
    app.state.training = training
    install_problem_handlers(app)
    # Innermost of the three: rate limits and payload checks, inside the size limit.
    limits = (
        EdgeLimits(
            principal_rate=settings.detection_edge_principal_rate,
            source_rate=settings.detection_edge_source_rate,
            redis_url=settings.redis_url,
        )
        if settings.detection_edge_enabled
        else None
    )
    app.state.edge_limits = limits
    app.add_middleware(
        DetectionEdge,
        limits=limits,
        identify=identify_with(identity.authenticate),
        record=detection.record_edge if detection is not None else None,
    )
    # Added last = outermost: size limit first, then headers on every answer including the 413.
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders, hsts_seconds=settings.api_hsts_seconds)
