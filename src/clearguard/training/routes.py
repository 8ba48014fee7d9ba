"""Training API under /api/v1/training: administrators and the DPO read and record completions; any
signed-in account reads its own standing (a gated account learns why it is refused and what to do)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.api.problems import PROBLEM_JSON
from clearguard.api.security import PermissionRoute, identity_of, require, source_of
from clearguard.training.completions import parse_day
from clearguard.training.courses import GATE_COURSES, PRIVILEGED_ROLES
from clearguard.training.service import TrainingService

_PROBLEM = {"content": {PROBLEM_JSON: {"schema": {"type": "object"}}}}
router = APIRouter(
    prefix="/api/v1/training",
    tags=["training"],
    route_class=PermissionRoute,
    responses={400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 422: _PROBLEM},
)

Reader = Annotated[Principal, require(Perm.TRAINING_READ)]
Manager = Annotated[Principal, require(Perm.TRAINING_MANAGE)]
Self = Annotated[Principal, require(Perm.SELF)]
Username = Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]


class CompletionIn(BaseModel):
    """A completion to record; dates as YYYY-MM-DD (checked by the same parser as the CLI)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    course: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")
    completed: str = Field(min_length=1, max_length=32)
    expires: str = Field(min_length=1, max_length=32)
    certificate: str | None = Field(default=None, max_length=128)


def _service(request: Request) -> TrainingService:
    service: TrainingService | None = request.app.state.services.training
    if service is None:
        raise RuntimeError("services.training is not wired")
    return service


@router.get("/completions")
def list_completions(request: Request, _: Reader, username: Username | None = None) -> dict[str, Any]:
    """Recorded completions, newest first per account and course."""
    return {"items": [c.to_dict() for c in _service(request).list(username)]}


@router.post("/completions", status_code=201)
async def record_completion(request: Request, principal: Manager, body: CompletionIn) -> dict[str, Any]:
    """Record a completion (an audit event with it). Refused for one's own account."""
    completed = parse_day(body.completed, "completed")
    expires = parse_day(body.expires, "expires")
    completion = await run_in_threadpool(
        _service(request).record,
        body.username,
        body.course,
        completed,
        expires,
        certificate=body.certificate,
        by=principal.username,
        role=principal.role.value,
        source=source_of(request),
        now=identity_of(request).clock.now(),
    )
    return completion.to_dict()


@router.get("/due")
def due(request: Request, _: Reader, within: Annotated[int | None, Query(ge=0, le=3660)] = None) -> dict[str, Any]:
    """Reminders: missing, expired, and expiring within `within` days (default: the reminder period)."""
    service = _service(request)
    gaps = service.due(identity_of(request).clock.now(), within_days=within)
    return {"within_days": service.reminder_days if within is None else within, "items": [g.to_dict() for g in gaps]}


@router.get("/me")
def mine(request: Request, principal: Self) -> dict[str, Any]:
    """The caller's own completions and gaps, and whether its privileged actions are open."""
    service = _service(request)
    gaps = service.gaps_of(principal, identity_of(request).clock.now())
    lapsed = any(g.course in GATE_COURSES and g.status != "expiring" for g in gaps)
    gated = principal.role in PRIVILEGED_ROLES and lapsed
    return {
        "username": principal.username,
        "role": principal.role.value,
        "privileged_actions": "refused" if gated else "open",
        "completions": [c.to_dict() for c in service.list(principal.username)],
        "gaps": [g.to_dict() for g in gaps],
    }
