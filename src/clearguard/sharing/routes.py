"""Sharing API under /api/v1/sharing.

- POST /inbox: a partner administration's machine client, authenticated by the TLS client
  certificate it was issued (the server's handshake refuses any certificate that no registered
  partner's CA issued; here the certificate must be the very one in a registered partner's identity,
  and the package inside must be signed by that same partner). No bearer token reaches it.
- /agreements...: the DPO or an administrator, with a fresh second factor (step-up).
"""

from __future__ import annotations

import hashlib
import ssl
from datetime import date
from typing import Annotated, Any

from cryptography import x509
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.api.models import StrictModel
from clearguard.api.peer_certificate import client_certificate
from clearguard.api.problems import PROBLEM_JSON
from clearguard.api.security import PERMISSION_ATTR, PermissionRoute, require, source_of
from clearguard.declarations.results import Actor
from clearguard.errors import Forbidden, InputError, Unauthenticated
from clearguard.sharing.service import COUNTERSIGNATURE_TYPE, SharingService

_PROBLEM = {"content": {PROBLEM_JSON: {"schema": {"type": "object"}}}}
router = APIRouter(
    prefix="/api/v1/sharing",
    tags=["sharing"],
    route_class=PermissionRoute,
    responses={400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM, 404: _PROBLEM, 413: _PROBLEM, 422: _PROBLEM},
)
Manager = Annotated[Principal, require(Perm.SHARING_MANAGE)]


def _service(request: Request) -> SharingService:
    service: SharingService | None = request.app.state.services.sharing
    if service is None:  # pragma: no cover - wiring always builds it
        raise Forbidden("sharing is not configured on this instance")
    return service


async def _partner(request: Request) -> str:
    """The registered partner whose client certificate this connection presented."""
    pem = client_certificate(request.scope)
    if pem is None:
        raise Unauthenticated("the inbox needs the client certificate of a registered partner (mutual TLS)")
    der = ssl.PEM_cert_to_DER_cert(pem)
    x509.load_der_x509_certificate(der)  # what the handshake verified; parsed to be sure it is one
    name = await run_in_threadpool(_service(request).partner_for_certificate, hashlib.sha256(der).hexdigest())
    if name is None:
        raise Forbidden("this client certificate belongs to no registered partner")
    return name


setattr(_partner, PERMISSION_ATTR, Perm.SHARING_RECEIVE)
PartnerName = Annotated[str, Depends(_partner)]


@router.post("/inbox")
async def inbox(request: Request, partner: PartnerName) -> dict[str, Any]:
    """Receive a package (application/jose: JWS in JWE). 200 with the receipt, or a problem+json
    naming the reason it was refused (the refusal is recorded). A countersignature of an agreement
    we proposed to this partner comes here too (application/clearguard-countersignature+jws)."""
    service = _service(request)
    limit = service.settings.sharing_inbox_max_bytes
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InputError(f"package larger than {limit} bytes (CLEARGUARD_SHARING_INBOX_MAX_BYTES)")
        chunks.append(chunk)
    actor = Actor(name=f"partner:{partner}", role="partner", source=source_of(request))
    data = b"".join(chunks)
    if request.headers.get("content-type", "").startswith(COUNTERSIGNATURE_TYPE):
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            raise InputError("countersignature: not ASCII text") from None
        return await run_in_threadpool(service.import_countersignature, text, actor=actor, via=partner)
    return await run_in_threadpool(service.receive, data, via=partner, actor=actor)


def _actor(principal: Principal, request: Request) -> Actor:
    return Actor(name=principal.username, role=principal.role.value, source=source_of(request))


class AgreementIn(StrictModel):
    partner: str = Field(min_length=1, max_length=64)
    purpose: str = Field(min_length=1, max_length=2000)
    legal_basis: str = Field(min_length=1, max_length=2000)
    allow: list[str] = Field(min_length=1, max_length=4)
    fields: list[str] = Field(default_factory=list, max_length=200)
    pseudonymise: bool = False
    valid_from: Annotated[date, Field(strict=False)]
    valid_until: Annotated[date, Field(strict=False)]
    max_per_day: int | None = Field(default=None, ge=1, le=1_000_000)
    retention_days: int = Field(default=365, ge=1, le=3650)


class RevokeIn(StrictModel):
    reason: str = Field(min_length=1, max_length=2000)


AgreementId = Annotated[str, Field(pattern=r"^agr-[0-9a-f]{32}$")]


@router.get("/agreements")
def list_agreements(request: Request, principal: Manager) -> list[dict[str, Any]]:
    """Every agreement, proposed, accepted or revoked."""
    return _service(request).list_agreements()


@router.post("/agreements", status_code=201)
def create_agreement(request: Request, principal: Manager, body: AgreementIn) -> dict[str, Any]:
    """Propose an agreement to a registered partner; the signed document is in the answer."""
    created, document = _service(request).create_agreement(
        partner=body.partner, purpose=body.purpose, legal_basis=body.legal_basis, allow=",".join(body.allow),
        fields=",".join(body.fields) or None, pseudonymise=body.pseudonymise, valid_from=body.valid_from,
        valid_until=body.valid_until, max_per_day=body.max_per_day, retention_days=body.retention_days,
        actor=_actor(principal, request),
    )  # fmt: skip
    return created | {"document": document}


@router.get("/agreements/{agreement_id}")
def show_agreement(request: Request, principal: Manager, agreement_id: AgreementId) -> dict[str, Any]:
    """One agreement with its signed document and the partner's countersignature."""
    return _service(request).show_agreement(agreement_id)


@router.post("/agreements/{agreement_id}/revoke")
def revoke_agreement(request: Request, principal: Manager, agreement_id: AgreementId, body: RevokeIn) -> dict[str, Any]:
    """Revoke an agreement: nothing more is sent or received under it."""
    return _service(request).revoke_agreement(agreement_id, reason=body.reason, actor=_actor(principal, request))


class ReidentifyIn(StrictModel):
    pseudonym: str = Field(min_length=4, max_length=100, pattern=r"^pn:[a-z2-7]+$")
    partner: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2000)


@router.post("/reidentify")
def reidentify(
    request: Request, principal: Annotated[Principal, require(Perm.SHARING_REIDENTIFY)], body: ReidentifyIn
) -> dict[str, Any]:
    """The identity behind a pseudonym this administration gave a partner (the DPO; audited)."""
    return _service(request).reidentify(
        body.pseudonym, partner=body.partner, reason=body.reason, actor=_actor(principal, request)
    )
