"""Traders and brokers: their declarations (list, page with versions, transitions and receipt).

Reads go through the same DeclarationGate and the same redaction (clearguard.declarations.views)
as the API's routes, so every page view of a declaration is an audited read like an API read.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.api.security import source_of
from clearguard.declarations import DeclarationGate, ListFilter, declaration_summaries, declaration_view
from clearguard.portal.guard import PageRoute, page_guard
from clearguard.portal.page import Page
from clearguard.portal.state import portal_of
from clearguard.portal.templating import render

# `sample` values of the form "demo:<file>" name the demo declaration `clearguard init` lodges from
# that file; the e2e matrix resolves them to its MRN.
PAGES: tuple[Page, ...] = (
    Page("/declarations", "GET", "view", Perm.DECLARATIONS_READ, menu="Declarations", heading="Declarations"),
    Page(
        "/declarations/{mrn}",
        "GET",
        "view",
        Perm.DECLARATIONS_READ,
        sample={"mrn": "demo:h1-import.json"},
        heading="Declaration",
    ),
)
router = APIRouter(route_class=PageRoute, include_in_schema=False)

Reader = Annotated[Principal, page_guard(Perm.DECLARATIONS_READ)]
Mrn = Annotated[str, Path(min_length=18, max_length=18, pattern=r"^[0-9A-Za-z]{18}$")]


def gate_of(request: Request) -> DeclarationGate:
    gate: DeclarationGate = request.app.state.gate
    return gate


def today_of(request: Request) -> date:
    return portal_of(request).sessions.identity.clock.now().date()


@router.get("/declarations")
def declarations(request: Request, principal: Reader) -> Response:
    items, next_cursor = declaration_summaries(
        gate_of(request), principal, today_of(request), ListFilter(), limit=100, cursor=None, source=source_of(request)
    )
    return render(request, "trader/list.html", {"items": items, "next_cursor": next_cursor})


@router.get("/declarations/{mrn}")
def declaration(request: Request, principal: Reader, mrn: Mrn) -> Response:
    body: dict[str, Any] = declaration_view(
        gate_of(request), principal, mrn, today_of(request), source=source_of(request), justification=None
    )
    return render(request, "trader/declaration.html", {"d": body})
