"""Detection API under /api/v1/detection, for the security role: alerts (and notices), triage, the
activity store. Nothing here shows declaration contents: activity holds keyed references only."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.api.models import StrictModel
from clearguard.api.problems import PROBLEM_JSON
from clearguard.api.security import PermissionRoute, require, source_of
from clearguard.detection.errors import DetectionError
from clearguard.detection.service import LIST_LIMIT, DetectionService

_PROBLEM = {"content": {PROBLEM_JSON: {"schema": {"type": "object"}}}}
router = APIRouter(
    prefix="/api/v1/detection",
    tags=["detection"],
    route_class=PermissionRoute,
    responses={400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 422: _PROBLEM, 429: _PROBLEM},
)
AlertReader = Annotated[Principal, require(Perm.DETECTION_ALERTS)]
Triager = Annotated[Principal, require(Perm.DETECTION_TRIAGE)]
ActivityReader = Annotated[Principal, require(Perm.DETECTION_ACTIVITY)]
Status = Literal["open", "acknowledged", "confirmed", "false_positive"]


class TriageIn(StrictModel):
    verdict: Literal["acknowledge", "confirm", "false_positive"]
    note: str = Field(min_length=1, max_length=2000)


def _service(request: Request) -> DetectionService:
    service = request.app.state.services.detection
    if not isinstance(service, DetectionService):
        raise DetectionError("detection is not configured")
    return service


@router.get("/alerts")
async def list_alerts(
    request: Request,
    _principal: AlertReader,
    status: Status | None = None,
    level: Literal["alert", "notice"] = "alert",
    limit: Annotated[int, Query(ge=1, le=LIST_LIMIT)] = 200,
) -> dict[str, Any]:
    items = await run_in_threadpool(_service(request).alerts, status=status, level=level, limit=limit)
    return {"alerts": items}


@router.post("/alerts/{alert_id}/triage")
async def triage(
    request: Request, principal: Triager, alert_id: Annotated[int, Path(ge=1, le=2**62)], body: TriageIn
) -> dict[str, Any]:
    service = _service(request)
    return await run_in_threadpool(
        lambda: service.triage(
            alert_id, body.verdict, body.note, by=principal.username, role=principal.role.value,
            source=source_of(request),
        )
    )  # fmt: skip


@router.get("/activity")
async def activity(
    request: Request,
    _principal: ActivityReader,
    actor: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    limit: Annotated[int, Query(ge=1, le=LIST_LIMIT)] = 200,
) -> dict[str, Any]:
    items = await run_in_threadpool(_service(request).activity, actor=actor, limit=limit)
    return {"activity": items}
