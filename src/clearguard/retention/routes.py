"""Retention API under /api/v1/retention: the DPO's policies, legal holds and disposal runs.

Every route needs `privacy:manage` (the DPO). A run through the API is the same run as the CLI's;
`dry_run` says what is due without disposing of anything.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.api.models import StrictModel
from clearguard.api.problems import PROBLEM_JSON
from clearguard.api.security import PermissionRoute, require, source_of
from clearguard.retention.service import RetentionService

_PROBLEM = {"content": {PROBLEM_JSON: {"schema": {"type": "object"}}}}
router = APIRouter(
    prefix="/api/v1/retention",
    tags=["retention"],
    route_class=PermissionRoute,
    responses={400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM, 422: _PROBLEM},
)
Dpo = Annotated[Principal, require(Perm.PRIVACY_MANAGE)]


class PersonIn(StrictModel):
    name: str = Field(min_length=1, max_length=70)
    postcode: str | None = Field(default=None, min_length=1, max_length=17)
    country: str = Field(pattern=r"^[A-Z]{2}$")


class HoldIn(StrictModel):
    party: str | None = Field(default=None, min_length=3, max_length=80, description="a trader's EORI")
    person: PersonIn | None = None
    mrn: str | None = Field(default=None, min_length=18, max_length=18, pattern=r"^[0-9A-Za-z]{18}$")
    case: str | None = Field(default=None, min_length=1, max_length=80)
    reason: str = Field(min_length=1, max_length=2000)
    owner: str = Field(min_length=1, max_length=80)
    review: Annotated[date, Field(strict=False, description="review date, YYYY-MM-DD")] | None = None


class ReleaseIn(StrictModel):
    reason: str = Field(min_length=1, max_length=2000)


class RunIn(StrictModel):
    dry_run: bool = True


def _service(request: Request) -> RetentionService:
    service: RetentionService = request.app.state.services.retention
    return service


@router.get("/policies")
def policies(request: Request, principal: Dpo) -> dict[str, Any]:
    """The retention policies in force."""
    return _service(request).policies.to_dict()


@router.get("/holds")
def list_holds(request: Request, principal: Dpo, released: bool = False) -> list[dict[str, Any]]:
    """Legal holds in force (with `released=true`, released ones too)."""
    return [h.to_dict() for h in _service(request).list_holds(active_only=not released)]


@router.post("/holds", status_code=201)
def add_hold(request: Request, principal: Dpo, body: HoldIn) -> dict[str, Any]:
    """Place a legal hold on a party (every declaration it appears in) or one declaration."""
    person = (body.person.name, body.person.postcode, body.person.country) if body.person else None
    hold = _service(request).add_hold(
        party=body.party, person=person, mrn=body.mrn, case_id=body.case, reason=body.reason, owner=body.owner,
        review=body.review, actor=principal.username, role=principal.role.value, source=source_of(request),
    )  # fmt: skip
    return hold.to_dict()


@router.post("/holds/{hold_id}/release")
def release_hold(
    request: Request, principal: Dpo, hold_id: Annotated[int, Field(ge=1, le=2**62)], body: ReleaseIn
) -> dict[str, Any]:
    """Release a legal hold, with the reason."""
    hold = _service(request).release_hold(
        hold_id, reason=body.reason, actor=principal.username, role=principal.role.value, source=source_of(request)
    )
    return hold.to_dict()


@router.post("/runs")
async def run(request: Request, principal: Dpo, body: RunIn) -> dict[str, Any]:
    """Dispose of what is due (or, with `dry_run`, the default, say what is due)."""
    service = _service(request)
    report = await run_in_threadpool(
        service.run,
        actor=principal.username,
        dry_run=body.dry_run,
        role=principal.role.value,
        source=source_of(request),
    )
    return report.to_dict()
