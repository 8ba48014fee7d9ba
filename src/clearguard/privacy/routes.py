"""Privacy API under /api/v1/privacy: the DPO's field inventory, subject access reports, data subject
requests and records of processing (PRIVACY_MANAGE), and a trader's own subject access report
(PRIVACY_OWN_REPORT: its own EORI, taken from its account, never from the request).

Subjects are named in request bodies, never in URLs (which proxies and access logs record).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Field

from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.api.models import StrictModel
from clearguard.api.problems import PROBLEM_JSON
from clearguard.api.security import PermissionRoute, require, source_of
from clearguard.declarations.results import Actor
from clearguard.errors import Forbidden, InputError
from clearguard.privacy.records import markdown
from clearguard.privacy.report import MEDIA_TYPES, render
from clearguard.privacy.service import PrivacyService, Subject

_PROBLEM = {"content": {PROBLEM_JSON: {"schema": {"type": "object"}}}}
router = APIRouter(
    prefix="/api/v1/privacy",
    tags=["privacy"],
    route_class=PermissionRoute,
    responses={400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 409: _PROBLEM, 422: _PROBLEM},
)
Dpo = Annotated[Principal, require(Perm.PRIVACY_MANAGE)]
OwnReport = Annotated[Principal, require(Perm.PRIVACY_OWN_REPORT)]
ReportFormat = Literal["json", "html", "pdf"]


class PersonIn(StrictModel):
    name: str = Field(min_length=1, max_length=70)
    postcode: str | None = Field(default=None, min_length=1, max_length=17)
    country: str = Field(pattern=r"^[A-Z]{2}$")


class SubjectIn(StrictModel):
    party: str | None = Field(default=None, min_length=3, max_length=22, description="a trader's EORI")
    person: PersonIn | None = None


class SubjectAccessIn(SubjectIn):
    format: ReportFormat = "json"


class RequestIn(SubjectIn):
    kind: Literal["access", "rectification", "erasure"]
    details: str = Field(min_length=1, max_length=4000)


class AnswerIn(StrictModel):
    outcome: str | None = Field(default=None, min_length=1, max_length=4000)


def _service(request: Request) -> PrivacyService:
    service: PrivacyService = request.app.state.services.privacy
    return service


def _actor(principal: Principal, request: Request) -> Actor:
    return Actor(name=principal.username, role=principal.role.value, source=source_of(request))


def _subject(service: PrivacyService, body: SubjectIn) -> Subject:
    if (body.party is None) == (body.person is None):
        raise InputError("party: give either party (an EORI) or person {name, postcode, country}", field="party")
    if body.party is not None:
        return service.trader(body.party)
    assert body.person is not None
    return service.person(body.person.name, body.person.postcode, body.person.country)


def _report(report: dict[str, Any], output: str) -> Response:
    return Response(render(report, output), media_type=MEDIA_TYPES[output], headers={"Cache-Control": "no-store"})


@router.get("/fields")
def fields(request: Request, principal: Dpo) -> dict[str, Any]:
    """Every stored declaration field with its category, purpose, legal basis, recipients and retention."""
    return _service(request).fields()


@router.get("/records")
def records(request: Request, principal: Dpo, format: Annotated[Literal["json", "md"], Query()] = "json") -> Response:
    """Records of processing activities (GDPR Art. 30(1)), generated."""
    record = _service(request).records()
    if format == "md":
        return Response(markdown(record), media_type="text/markdown; charset=utf-8")
    return Response(render(record, "json"), media_type="application/json")


@router.post("/subject-access")
def subject_access(request: Request, principal: Dpo, body: SubjectAccessIn) -> Response:
    """A subject access report (GDPR Art. 15) on a trader or a natural person; audited."""
    service = _service(request)
    report = service.subject_access(_subject(service, body), _actor(principal, request), output=body.format)
    return _report(report, body.format)


@router.get("/me/subject-access")
def own_subject_access(
    request: Request, principal: OwnReport, format: Annotated[ReportFormat, Query()] = "json"
) -> Response:
    """The caller's own subject access report: its account's EORI, nothing else. Staff who accessed
    the data are named by role."""
    if not principal.party_eori:
        raise Forbidden("this account acts for no party: there is no own report", field="party")
    service = _service(request)
    subject = service.trader(principal.party_eori)
    report = service.subject_access(subject, _actor(principal, request), output=format, staff_as_roles=True)
    return _report(report, format)


@router.post("/requests", status_code=201)
def add_request(request: Request, principal: Dpo, body: RequestIn) -> dict[str, Any]:
    """Record a data subject request (access, rectification, erasure); due one calendar month later."""
    service = _service(request)
    return service.add_request(body.kind, _subject(service, body), body.details, _actor(principal, request))


@router.get("/requests")
def list_requests(
    request: Request, principal: Dpo, overdue: Annotated[bool, Query()] = False
) -> list[dict[str, Any]]:
    """Data subject requests, oldest first; `overdue`: open ones past their deadline."""
    return _service(request).list_requests(_actor(principal, request), overdue=overdue)


@router.post("/requests/{request_id}/answer")
def answer(
    request: Request,
    principal: Dpo,
    request_id: Annotated[int, Path(ge=1, le=2**62)],
    body: AnswerIn,
) -> dict[str, Any]:
    """Answer a request; an erasure is refused with the legal reason or carried out by crypto-shredding."""
    return _service(request).answer(request_id, _actor(principal, request), outcome=body.outcome)
