"""Declarations API under /api/v1/declarations (issue 3's contract).

Every route names its permission through `require`; the DeclarationGate applies ownership (404 for
records the principal may not know of, 403 for forbidden actions), break-glass and redaction.
Declaration bodies are read as raw bytes and parsed by the same strict parser as the CLI, so the
API and the CLI refuse bad input with the same findings.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from clearguard.access.policy import Action, authorize_read, channel_for, refuse_withheld_filters
from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.api.models import StrictModel
from clearguard.api.problems import PROBLEM_JSON
from clearguard.api.security import PermissionRoute, identity_of, require, source_of
from clearguard.declarations import views
from clearguard.declarations.gate import DeclarationGate, actor_of
from clearguard.declarations.parse import parse_json
from clearguard.declarations.results import ListFilter, LodgeResult
from clearguard.declarations.service import DeclarationService
from clearguard.errors import InputError

_PROBLEM = {"content": {PROBLEM_JSON: {"schema": {"type": "object"}}}}
router = APIRouter(
    prefix="/api/v1/declarations",
    tags=["declarations"],
    route_class=PermissionRoute,
    responses={400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM, 422: _PROBLEM},
)

Reader = Annotated[Principal, require(Perm.DECLARATIONS_READ)]
Lodger = Annotated[Principal, require(Perm.DECLARATIONS_LODGE)]
Amender = Annotated[Principal, require(Perm.DECLARATIONS_AMEND)]
Decider = Annotated[Principal, require(Perm.DECLARATIONS_DECIDE)]
MrnPath = Annotated[str, Field(min_length=18, max_length=18, pattern=r"^[0-9A-Za-z]{18}$")]

DECLARATION_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DeclarationDocument"}}},
    }
}


class FindingOut(StrictModel):
    rule_id: str
    severity: Literal["error", "warning", "review"]
    pointer: str
    message: str


class LodgeOut(StrictModel):
    mrn: str
    status: str
    channel: str | None
    version: int
    findings: list[FindingOut]
    ledger_index: int | None = None
    receipt: dict[str, Any] | None = None
    receipt_url: str | None = None


class DecisionIn(StrictModel):
    decision: Literal["release", "hold", "reject"]
    reason: str = Field(min_length=1, max_length=2000)


class AmendmentIn(StrictModel):
    reason: str = Field(min_length=1, max_length=2000)
    declaration: dict[str, Any]


class SummaryOut(StrictModel):
    mrn: str
    lrn: str | None  # None for views that withhold confidential data
    type: str
    office: str
    status: str
    channel: str | None
    version: int
    created_at: str


class PageOut(StrictModel):
    items: list[SummaryOut]
    next_cursor: str | None


def _gate(request: Request) -> DeclarationGate:
    gate: DeclarationGate = request.app.state.gate
    return gate


def _service(request: Request) -> DeclarationService:
    return _gate(request).declarations


def _today(request: Request) -> date:
    return identity_of(request).clock.now().date()


def _lodge_body(result: LodgeResult, principal: Principal) -> dict[str, Any]:
    """LodgeOut's members, in its order, straight from the result."""
    return {
        "mrn": result.mrn,
        "status": result.status,
        "channel": channel_for(principal.role, result.channel),
        "version": result.version,
        "findings": [f.to_dict() for f in result.findings],
        "ledger_index": result.ledger_index,
        "receipt": result.receipt,
        "receipt_url": f"/api/v1/declarations/{result.mrn}/receipt",
    }


def _lodge_out(result: LodgeResult, principal: Principal) -> LodgeOut:
    data = result.to_dict()
    return LodgeOut(
        mrn=data["mrn"],
        status=data["status"],
        channel=channel_for(principal.role, data["channel"]),
        version=data["version"],
        findings=[FindingOut(**f) for f in data["findings"]],
        ledger_index=data["ledger_index"],
        receipt=data.get("receipt"),
        receipt_url=f"/api/v1/declarations/{result.mrn}/receipt",
    )


async def _document(request: Request) -> dict[str, Any]:
    settings = request.app.state.services.settings
    return parse_json(await request.body(), max_bytes=settings.max_request_bytes, source="body")


@router.post("", status_code=201, response_model=LodgeOut, openapi_extra=DECLARATION_BODY)
async def lodge(
    request: Request,
    principal: Lodger,
    receipt: Annotated[bool, Query(description="wait for the signed ledger receipt (integrates at once)")] = False,
) -> Response:
    """Lodge a declaration (H1 or H7). 201 with the MRN; 200 with the first MRN when the same LRN
    and content were lodged before; 422 with every finding when it breaks a rule. The ledger entry
    is signed with the next batch (about 200 ms): `receipt_url` gives its receipt, or `?receipt=true`
    waits for it."""
    doc = await _document(request)
    _gate(request).check_lodge(principal, doc, _today(request))
    actor = actor_of(principal, source_of(request))
    if receipt:
        result = await run_in_threadpool(_service(request).lodge, doc, actor, receipt=True)
    else:
        # Concurrent requests share one transaction (group commit); each gets its own outcome.
        result = await request.app.state.lodger.lodge_async(doc, actor)
    # Serialised here, in LodgeOut's shape (the documented response_model), rather than validated
    # against it again by FastAPI: every field comes from our own LodgeResult.
    return Response(
        orjson.dumps(_lodge_body(result, principal)),
        status_code=201 if result.created else 200,
        media_type="application/json",
        headers={"Location": f"/api/v1/declarations/{result.mrn}"},
    )


@router.get("", response_model=PageOut)
def list_declarations(
    request: Request,
    principal: Reader,
    # Shapes of the stored values, so nothing else (a NUL, which PostgreSQL refuses) reaches a query.
    status: Annotated[str | None, Query(max_length=16, pattern=r"^[a-z_]+$")] = None,
    office: Annotated[str | None, Query(pattern=r"^[A-Z]{2}[A-Z0-9]{6}$")] = None,
    type: Annotated[Literal["H1", "H7"] | None, Query()] = None,
    party: Annotated[
        # An EORI as the blind index reads one (anything else answers 422, never a 500 from the index).
        str | None,
        Query(min_length=3, max_length=17, pattern=r"^[A-Za-z]{2}[0-9A-Za-z]{1,15}$", description="EORI of any party"),
    ] = None,
    lrn: Annotated[str | None, Query(max_length=22, pattern=r"^[A-Za-z0-9._/-]+$")] = None,
    since: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> PageOut:
    """Declarations the caller may see, newest first; `next_cursor` fetches the next page. A filter
    on data the caller's role does not see (`party` for an auditor or a risk analyst) is refused."""
    refuse_withheld_filters(principal, {k: views.FILTER_DATA[k] for k, v in (("party", party), ("lrn", lrn)) if v})
    if party is not None:
        party = request.app.state.services.compliance.check_eori(party, field="party")
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    base = ListFilter(status=status, office=office, type=type, party_eori=party, lrn=lrn, since=since)
    found, next_cursor = views.summaries(
        _gate(request), principal, _today(request), base, limit=limit, cursor=cursor, source=source_of(request)
    )
    return PageOut(items=[SummaryOut(**s) for s in found], next_cursor=next_cursor)


@router.get("/{mrn}")
def read(
    request: Request,
    principal: Reader,
    mrn: MrnPath,
    x_justification: Annotated[
        str | None,
        Header(max_length=2000, description="break-glass: why an officer opens another office's record (UTF-8)"),
    ] = None,
    justification: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> dict[str, Any]:
    """One declaration, redacted to what the caller's role may see; every read is audited. An officer
    opening another office's record gives the reason in the `X-Justification` header (never in the
    URL, which proxies and access logs record)."""
    if justification is not None:
        raise InputError(
            "justification: send it in the X-Justification header, not in the URL (URLs are logged)",
            field="justification",
        )
    return views.declaration(
        _gate(request),
        principal,
        mrn,
        _today(request),
        source=source_of(request),
        justification=_utf8(x_justification),
    )


def _utf8(header: str | None) -> str | None:
    """A header value as sent: HTTP hands it over as Latin-1, a justification is written in UTF-8."""
    if header is None:
        return None
    try:
        return header.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise InputError("X-Justification: not UTF-8 text", field="X-Justification") from None


@router.get("/{mrn}/receipt")
def receipt(
    request: Request, principal: Reader, mrn: MrnPath, version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None
) -> dict[str, Any]:
    """The signed ledger receipt of a declaration version (current by default): entry index, signed
    checkpoint and inclusion proof; check it offline with the log's key (`clearguard ledger key`)."""
    gate = _gate(request)
    authorize_read(principal, gate.ref(mrn.upper()), _today(request), party_key=gate.party_key)
    return gate.declarations.receipt_for(mrn, version)


@router.post("/{mrn}/amendments", response_model=LodgeOut, status_code=201)
def amend(request: Request, principal: Amender, mrn: MrnPath, body: AmendmentIn) -> LodgeOut:
    """A new version of a declaration not yet released; re-validated and re-assessed."""
    gate = _gate(request)
    gate.check_action(principal, mrn.upper(), Action.AMEND, _today(request))
    gate.check_lodge(principal, body.declaration, _today(request))
    result = gate.declarations.amend(mrn, body.declaration, actor_of(principal, source_of(request)), reason=body.reason)
    return _lodge_out(result, principal)


@router.post("/{mrn}/decisions", response_model=SummaryOut)
def decide(request: Request, principal: Decider, mrn: MrnPath, body: DecisionIn) -> SummaryOut:
    """An officer's release, hold or reject of a declaration of its office, with a reason."""
    gate = _gate(request)
    gate.check_action(principal, mrn.upper(), Action.DECIDE, _today(request))
    summary = gate.declarations.decide(mrn, body.decision, actor_of(principal, source_of(request)), reason=body.reason)
    return SummaryOut(**summary.to_dict())


def declaration_schema() -> dict[str, Any]:
    """The JSON schema of a declaration body, for the OpenAPI description."""
    from pydantic import TypeAdapter

    from clearguard.declaration_model import Declaration

    schema: dict[str, Any] = TypeAdapter(Declaration).json_schema(  # type: ignore[arg-type,unused-ignore]
        ref_template="#/components/schemas/{model}"
    )
    return schema
