"""The auditor's pages: the audit trail's search (sent as a form body: names of staff stay out of
URLs and access logs) with officers' decisions over time as a chart, and the ledger's signed state
with a full verification on demand (clearguard.portal.boards.auditor)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.api.security import source_of
from clearguard.portal.boards import auditor
from clearguard.portal.charts import bar_chart
from clearguard.portal.guard import PageRoute, page_guard
from clearguard.portal.page import Page
from clearguard.portal.pages.trader import today_of
from clearguard.portal.state import portal_of
from clearguard.portal.templating import render

PAGES: tuple[Page, ...] = (
    Page("/audit", "GET", "view", Perm.AUDIT_READ, menu="Audit trail", heading="Audit trail"),
    Page("/audit", "POST", "search", Perm.AUDIT_READ),
    Page("/audit/ledger", "GET", "view", Perm.LEDGER_READ, menu="Ledger", heading="Ledger"),
    Page("/audit/ledger/verify", "POST", "verify", Perm.LEDGER_READ),
)
router = APIRouter(route_class=PageRoute, include_in_schema=False)

AuditReader = Annotated[Principal, page_guard(Perm.AUDIT_READ)]
LedgerReader = Annotated[Principal, page_guard(Perm.LEDGER_READ)]
Field = Annotated[str | None, Form(max_length=300)]


def _audit_page(request: Request, context: dict[str, Any]) -> Response:
    services = portal_of(request).services
    series = auditor.decisions_by_day(services.audit, services.session_factory, today_of(request))
    totals = auditor.total_bars(series)
    chart = bar_chart(
        chart_id="decisions-over-time",
        title="Decisions over time",
        desc="Officers' releases, holds and rejections per day over the last 14 days: "
        + ", ".join(f"{kind} {int(sum(b.value for b in bars))}" for kind, bars in series.items()),
        bars=totals,
    )
    return render(request, "auditor/audit.html", {"chart": chart, "series": series, **context})


@router.get("/audit")
def audit(request: Request, principal: AuditReader) -> Response:
    return _audit_page(request, {"events": None, "form": auditor.SearchForm()})


@router.post("/audit")
def search(
    request: Request, principal: AuditReader, actor: Field = None, action: Field = None, record_type: Field = None,
    record_id: Field = None, since: Field = None, until: Field = None,
) -> Response:  # fmt: skip
    services = portal_of(request).services
    form = auditor.parse_search(actor, action, record_type, record_id, since, until)
    events = auditor.search(services.audit, services.session_factory, principal, form, source=source_of(request))
    return _audit_page(request, {"events": events, "form": form, "limit": auditor.SEARCH_LIMIT})


@router.get("/audit/ledger")
def ledger(request: Request, principal: LedgerReader) -> Response:
    services = portal_of(request).services
    state = auditor.ledger_state(services.ledger, services.session_factory)
    return render(request, "auditor/ledger.html", {"state": state, "report": None})


@router.post("/audit/ledger/verify")
def verify(request: Request, principal: LedgerReader) -> Response:
    services = portal_of(request).services
    source = source_of(request)
    report = auditor.verify(services.ledger, services.audit, services.session_factory, principal, source=source)
    state = auditor.ledger_state(services.ledger, services.session_factory)
    block = "verification" if request.headers.get("hx-request") == "true" else None
    return render(request, "auditor/ledger.html", {"state": state, "report": report}, block=block)
