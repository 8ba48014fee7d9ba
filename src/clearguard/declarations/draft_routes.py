"""Drafts API under /api/v1/drafts: a trader's or broker's declarations in preparation (issue 17).

Bodies are raw JSON documents read like lodging bodies (same size limit), but not validated: a draft
may be incomplete. Only the owner reaches a draft (anyone else: 404). Lodging a draft runs the
normal lodging path with its authorisation; findings answer 422 and keep the draft.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.api.models import StrictModel
from clearguard.api.problems import PROBLEM_JSON
from clearguard.api.security import PermissionRoute, identity_of, require, source_of
from clearguard.declarations.drafts import DraftService, DraftSummary
from clearguard.declarations.gate import DeclarationGate, actor_of
from clearguard.declarations.parse import parse_json
from clearguard.declarations.routes import DECLARATION_BODY, LodgeOut, _lodge_body

_PROBLEM = {"content": {PROBLEM_JSON: {"schema": {"type": "object"}}}}
router = APIRouter(
    prefix="/api/v1/drafts",
    tags=["drafts"],
    route_class=PermissionRoute,
    responses={400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 422: _PROBLEM},
)

Lodger = Annotated[Principal, require(Perm.DECLARATIONS_LODGE)]
DraftId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]


class DraftOut(StrictModel):
    id: str
    title: str
    created_at: str
    updated_at: str


class DraftDocumentOut(DraftOut):
    document: dict[str, Any]


class DraftListOut(StrictModel):
    items: list[DraftOut]


def _out(s: DraftSummary) -> DraftOut:
    return DraftOut(id=s.id, title=s.title, created_at=s.created_at.isoformat(), updated_at=s.updated_at.isoformat())


def _drafts(request: Request) -> DraftService:
    drafts: DraftService | None = request.app.state.services.drafts
    if drafts is None:  # only where a test wires services by hand
        raise RuntimeError("drafts are not wired")
    return drafts


def _gate(request: Request) -> DeclarationGate:
    gate: DeclarationGate = request.app.state.gate
    return gate


async def _document(request: Request) -> dict[str, Any]:
    settings = request.app.state.services.settings
    return parse_json(await request.body(), max_bytes=settings.max_request_bytes, source="body")


async def _save(request: Request, principal: Principal, draft_id: str | None) -> DraftOut:
    doc = await _document(request)
    declarant = _gate(request).draft_declarant(principal, doc, identity_of(request).clock.now().date())
    actor = actor_of(principal, source_of(request))
    summary = await run_in_threadpool(_drafts(request).save, actor, doc, draft_id=draft_id, declarant=declarant)
    return _out(summary)


@router.get("", response_model=DraftListOut)
def list_drafts(request: Request, principal: Lodger) -> DraftListOut:
    """The caller's own drafts, most recently saved first."""
    return DraftListOut(items=[_out(s) for s in _drafts(request).list(principal.username)])


@router.post("", status_code=201, response_model=DraftOut, openapi_extra=DECLARATION_BODY)
async def create(request: Request, principal: Lodger) -> DraftOut:
    """Save a new draft: any JSON object, complete or not; nothing is validated until it is lodged."""
    return await _save(request, principal, None)


@router.get("/{draft_id}", response_model=DraftDocumentOut)
def read(request: Request, principal: Lodger, draft_id: DraftId) -> DraftDocumentOut:
    draft = _drafts(request).get(principal.username, draft_id)
    return DraftDocumentOut(**_out(draft.summary).model_dump(), document=draft.document)


@router.put("/{draft_id}", response_model=DraftOut, openapi_extra=DECLARATION_BODY)
async def replace(request: Request, principal: Lodger, draft_id: DraftId) -> DraftOut:
    return await _save(request, principal, draft_id)


@router.delete("/{draft_id}", status_code=204)
def remove(request: Request, principal: Lodger, draft_id: DraftId) -> Response:
    _drafts(request).delete(actor_of(principal, source_of(request)), draft_id)
    return Response(status_code=204)


@router.post("/{draft_id}/lodge", status_code=201, response_model=LodgeOut)
def lodge(request: Request, principal: Lodger, draft_id: DraftId) -> Response:
    """Lodge the draft as a declaration: 201 with the MRN and the draft deleted, or 422 with every
    finding and the draft kept."""
    gate = _gate(request)
    today = identity_of(request).clock.now().date()
    result = _drafts(request).lodge(
        actor_of(principal, source_of(request)),
        draft_id,
        check=lambda doc: gate.check_lodge(principal, doc, today),
        lodge=lambda doc, actor: gate.declarations.lodge(doc, actor, receipt=False),
    )
    return Response(
        orjson.dumps(_lodge_body(result, principal)),
        status_code=201 if result.created else 200,
        media_type="application/json",
        headers={"Location": f"/api/v1/declarations/{result.mrn}"},
    )
