"""Traveller records API under /api/v1/travellers: officers of the record's office only.

Bodies are read as raw bytes and parsed by the same strict model as the CLI (NaN and Infinity
literals refused, unknown fields refused), so both refuse bad input with the same one-line error. A
read gives its reason in the `X-Justification` header (never in the URL, which access logs record).
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.api.problems import PROBLEM_JSON
from clearguard.api.security import PermissionRoute, require, source_of
from clearguard.errors import InputError
from clearguard.travellers.record import TravellerInput, loads, parse_input
from clearguard.travellers.service import TravellerService

_PROBLEM = {"content": {PROBLEM_JSON: {"schema": {"type": "object"}}}}
router = APIRouter(
    prefix="/api/v1/travellers",
    tags=["travellers"],
    route_class=PermissionRoute,
    responses={400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 422: _PROBLEM},
)

Recorder = Annotated[Principal, require(Perm.TRAVELLERS_RECORD)]
Reader = Annotated[Principal, require(Perm.TRAVELLERS_READ)]
RecordIdPath = Annotated[str, Field(min_length=28, max_length=28, pattern=r"^TRV-[0-9a-f]{24}$")]
RECORD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": TravellerInput.model_json_schema()}},
    }
}


def _service(request: Request) -> TravellerService:
    service: TravellerService = request.app.state.services.travellers
    return service


@router.post("", status_code=201, openapi_extra=RECORD_BODY)
async def record(request: Request, principal: Recorder) -> Response:
    """Record a traveller's clearance at the officer's office: 201 with the record id."""
    settings = request.app.state.services.settings
    raw = await request.body()
    if len(raw) > settings.max_request_bytes:
        raise InputError(f"body: larger than the limit of {settings.max_request_bytes} bytes", field="body")
    data = parse_input(loads(raw, source="body"))
    view = await run_in_threadpool(_service(request).record, data, principal, source=source_of(request))
    return Response(
        orjson.dumps(view.to_dict()),
        status_code=201,
        media_type="application/json",
        headers={"Location": f"/api/v1/travellers/{view.record_id}"},
    )


@router.get("")
def list_records(
    request: Request,
    principal: Reader,
    office: Annotated[str, Query(pattern=r"^[A-Z]{2}[A-Z0-9]{6}$")],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """The office's records, newest first: metadata only."""
    items = _service(request).list(office, principal, limit=limit, source=source_of(request))
    return {"items": [s.to_dict() for s in items]}


@router.get("/{record_id}")
def read(
    request: Request,
    principal: Reader,
    record_id: RecordIdPath,
    x_justification: Annotated[
        str | None, Header(max_length=2000, description="why the record is opened (UTF-8); audited")
    ] = None,
    with_template: Annotated[bool, Query(description="the template's values, not only its digest")] = False,
    justification: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> dict[str, Any]:
    """One record, for an officer of its office; every read is audited with its justification."""
    if justification is not None:
        raise InputError(
            "justification: send it in the X-Justification header, not in the URL (URLs are logged)",
            field="justification",
        )
    reason = _utf8(x_justification)
    if reason is None:
        raise InputError("justification: the X-Justification header is required", field="justification")
    view = _service(request).get(record_id, principal, reason, source=source_of(request))
    return view.to_dict(with_template=with_template)


def _utf8(header: str | None) -> str | None:
    """A header value as sent: HTTP hands it over as Latin-1, a justification is written in UTF-8."""
    if header is None:
        return None
    try:
        return header.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise InputError("X-Justification: not UTF-8 text", field="X-Justification") from None
