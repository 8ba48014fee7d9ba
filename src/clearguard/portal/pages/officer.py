"""The officer's pages: the office's queue ordered by risk (with the queue by channel as a chart), a
declaration with the reasons for its channel, decisions (step-up: Perm.DECLARATIONS_DECIDE), control
outcomes, and break-glass reads of another office's record with a justification (sent in a form
body, never in the URL, which access logs record).

All data comes from clearguard.portal.boards.officer: the API's gate, policy, redaction and audit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.api.security import source_of
from clearguard.portal.boards import officer
from clearguard.portal.charts import bar_chart, channel_bars
from clearguard.portal.guard import PageRoute, page_guard
from clearguard.portal.page import Page
from clearguard.portal.pages.trader import gate_of, today_of
from clearguard.portal.state import portal_of
from clearguard.portal.templating import redirect, render

SAMPLE = {"mrn": "demo:h1-import.json"}
PAGES: tuple[Page, ...] = (
    Page("/officer", "GET", "view", Perm.DECLARATIONS_QUEUE, menu="Office queue", heading="Office queue"),
    Page("/officer/declarations/{mrn}", "GET", "view", Perm.DECLARATIONS_QUEUE, sample=SAMPLE, heading="Declaration"),
    Page("/officer/declarations/{mrn}/decision", "POST", "decide", Perm.DECLARATIONS_DECIDE, sample=SAMPLE),
    Page("/officer/declarations/{mrn}/outcome", "POST", "record-outcome", Perm.DECLARATIONS_DECIDE, sample=SAMPLE),
    Page("/officer/break-glass", "POST", "break-glass", Perm.DECLARATIONS_QUEUE),
)
router = APIRouter(route_class=PageRoute, include_in_schema=False)

Queue = Annotated[Principal, page_guard(Perm.DECLARATIONS_QUEUE)]
Decider = Annotated[Principal, page_guard(Perm.DECLARATIONS_DECIDE)]
Mrn = Annotated[str, Path(min_length=18, max_length=18, pattern=r"^[0-9A-Za-z]{18}$")]
Text = Annotated[str | None, Form(max_length=4000)]


@router.get("/officer")
def queue(request: Request, principal: Queue) -> Response:
    services = portal_of(request).services
    items = officer.queue(
        gate_of(request), services.risk, services.session_factory, principal, today_of(request),
        source=source_of(request),
    )  # fmt: skip
    counts = officer.channel_counts(items)
    chart = bar_chart(
        chart_id="queue-by-channel",
        title="Queue by channel",
        desc=f"{len(items)} declarations of your office await a decision: "
        + (", ".join(f"{n} {c}" for c, n in counts.items()) or "none"),
        bars=channel_bars(counts),
    )
    return render(request, "officer/queue.html", {"items": items, "chart": chart})


def _declaration_page(
    request: Request, principal: Principal, mrn: str, *, justification: str | None, status_code: int = 200,
    error: str | None = None,
) -> Response:  # fmt: skip
    services = portal_of(request).services
    body = officer.declaration(
        gate_of(request), principal, mrn, today_of(request), source=source_of(request), justification=justification
    )
    reasons = officer.reasons(services.risk, services.session_factory, principal, body["mrn"])
    context = {"d": body, "reasons": reasons, "error": error, "break_glass": bool(body.get("break_glass"))}
    return render(request, "officer/declaration.html", context, status_code=status_code)


@router.get("/officer/declarations/{mrn}")
def declaration(request: Request, principal: Queue, mrn: Mrn) -> Response:
    return _declaration_page(request, principal, mrn, justification=None)


@router.post("/officer/declarations/{mrn}/decision")
def decide(request: Request, principal: Decider, mrn: Mrn, decision: Text = None, reason: Text = None) -> Response:
    officer.decide(
        gate_of(request), principal, mrn, decision or "", reason or "", today_of(request), source=source_of(request)
    )
    return redirect(request, f"/officer/declarations/{mrn.upper()}")


@router.post("/officer/declarations/{mrn}/outcome")
def outcome(
    request: Request, principal: Decider, mrn: Mrn, result: Text = None, duty_recovered: Text = None, note: Text = None
) -> Response:
    services = portal_of(request).services
    parsed = officer.parse_outcome(result or "", duty_recovered, note)
    officer.record_outcome(
        gate_of(request), services.risk, services.audit, services.session_factory, principal, mrn, parsed,
        today_of(request), source=source_of(request),
    )  # fmt: skip
    return redirect(request, f"/officer/declarations/{mrn.upper()}")


@router.post("/officer/break-glass")
def break_glass(request: Request, principal: Queue, mrn: Text = None, justification: Text = None) -> Response:
    """Opens a record of another office for reading: the justification is checked by the access
    policy and recorded in the audit trail (declaration.break-glass) before anything is shown."""
    number = (mrn or "").strip().upper()
    officer.check_mrn(number)
    text = officer.check_reason(justification or "", field="justification")
    return _declaration_page(request, principal, number, justification=text)
