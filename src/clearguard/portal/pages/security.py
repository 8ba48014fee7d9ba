"""Security staff's page: detection's alerts with alerts over time as a chart, and triage with a note
(step-up: Perm.DETECTION_TRIAGE). The detection service refuses a verdict from anyone the alert names
(clearguard.portal.boards.security)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response

from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.api.security import source_of
from clearguard.detection.errors import DetectionError
from clearguard.detection.service import DetectionService
from clearguard.portal.boards import security
from clearguard.portal.charts import bar_chart
from clearguard.portal.guard import PageRoute, page_guard
from clearguard.portal.page import Page
from clearguard.portal.pages.trader import today_of
from clearguard.portal.state import portal_of
from clearguard.portal.templating import redirect, render

PAGES: tuple[Page, ...] = (
    Page("/security/alerts", "GET", "view", Perm.DETECTION_ALERTS, menu="Alerts", heading="Alerts"),
    Page("/security/alerts/{alert_id}/triage", "POST", "triage", Perm.DETECTION_TRIAGE, sample={"alert_id": "1"}),
)
router = APIRouter(route_class=PageRoute, include_in_schema=False)

AlertReader = Annotated[Principal, page_guard(Perm.DETECTION_ALERTS)]
Triager = Annotated[Principal, page_guard(Perm.DETECTION_TRIAGE)]
Text = Annotated[str | None, Form(max_length=4000)]
Status = Literal["open", "acknowledged", "confirmed", "false_positive"]


def _detection(request: Request) -> DetectionService:
    service = portal_of(request).services.detection
    if service is None:
        raise DetectionError("detection is not configured")
    return service


@router.get("/security/alerts")
def alerts(request: Request, principal: AlertReader, status: Annotated[Status | None, Query()] = None) -> Response:
    detection = _detection(request)
    items = security.alerts(detection, status)
    everything = items if status is None else security.alerts(detection, None)
    bars = security.by_day(everything, today_of(request))
    chart = bar_chart(
        chart_id="alerts-over-time",
        title="Alerts over time",
        desc=f"Alerts first seen per day over the last {len(bars)} days: {int(sum(b.value for b in bars))} in all",
        bars=bars,
    )
    context = {"items": items, "chart": chart, "status": status, "statuses": security.STATUSES}
    return render(request, "security/alerts.html", context)


@router.post("/security/alerts/{alert_id}/triage")
def triage(
    request: Request, principal: Triager, alert_id: Annotated[int, Path(ge=1, le=2**62)], verdict: Text = None,
    note: Text = None,
) -> Response:  # fmt: skip
    security.triage(_detection(request), principal, alert_id, verdict or "", note, source=source_of(request))
    return redirect(request, "/security/alerts")
