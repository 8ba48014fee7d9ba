"""The DPO's page: retention policies, legal holds (place, release), data subject requests, agreements
with partner administrations, and subject access reports (downloaded, never shown inside the page)
(clearguard.portal.boards.dpo)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.api.security import source_of
from clearguard.portal.boards import dpo
from clearguard.portal.guard import PageRoute, page_guard
from clearguard.portal.page import Page
from clearguard.portal.state import portal_of
from clearguard.portal.templating import finish, redirect, render

PAGES: tuple[Page, ...] = (
    Page("/privacy", "GET", "view", Perm.PRIVACY_MANAGE, menu="Privacy", heading="Privacy"),
    Page("/privacy/holds", "POST", "add-hold", Perm.PRIVACY_MANAGE),
    Page("/privacy/holds/{hold_id}/release", "POST", "release-hold", Perm.PRIVACY_MANAGE, sample={"hold_id": "1"}),
    Page("/privacy/subject-access", "POST", "subject-access", Perm.PRIVACY_MANAGE),
)
router = APIRouter(route_class=PageRoute, include_in_schema=False)

Dpo = Annotated[Principal, page_guard(Perm.PRIVACY_MANAGE)]
Text = Annotated[str | None, Form(max_length=4000)]


@router.get("/privacy")
def privacy(request: Request, principal: Dpo) -> Response:
    services = portal_of(request).services
    view = dpo.overview(services.retention, services.privacy, services.sharing, principal, source=source_of(request))
    return render(request, "dpo/privacy.html", {"view": view})


@router.post("/privacy/holds")
def add_hold(
    request: Request, principal: Dpo, party: Text = None, mrn: Text = None, case: Text = None, reason: Text = None,
    owner: Text = None, review: Text = None,
) -> Response:  # fmt: skip
    dpo.add_hold(
        portal_of(request).services.retention, principal, party=party, mrn=mrn, case=case, reason=reason,
        owner=owner, review=review, source=source_of(request),
    )  # fmt: skip
    return redirect(request, "/privacy")


@router.post("/privacy/holds/{hold_id}/release")
def release_hold(
    request: Request, principal: Dpo, hold_id: Annotated[int, Path(ge=1, le=2**62)], reason: Text = None
) -> Response:
    dpo.release_hold(portal_of(request).services.retention, principal, hold_id, reason, source=source_of(request))
    return redirect(request, "/privacy")


@router.post("/privacy/subject-access")
def subject_access(request: Request, principal: Dpo, party: Text = None, format: Text = None) -> Response:
    report = dpo.subject_access(
        portal_of(request).services.privacy, principal, party, format or "html", source=source_of(request)
    )
    response = Response(
        report.body,
        media_type=report.media_type,
        headers={"Content-Disposition": f'attachment; filename="{report.filename}"'},
    )
    return finish(request, response)
