"""The risk analyst's page: the model registry and metrics, the evaluation of the current model beside
random selection (precision and recall at 1, 2, 5 and 10% of lines inspected, as charts), and the
report per office and channel with hit rates by office (clearguard.portal.boards.analyst)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from clearguard.access.principal import Principal
from clearguard.access.roles import Perm
from clearguard.portal.boards import analyst
from clearguard.portal.charts import bar_chart, percent
from clearguard.portal.guard import PageRoute, page_guard
from clearguard.portal.page import Page
from clearguard.portal.state import portal_of
from clearguard.portal.templating import render

PAGES: tuple[Page, ...] = (Page("/risk", "GET", "view", Perm.RISK_MANAGE, menu="Risk models", heading="Risk models"),)
router = APIRouter(route_class=PageRoute, include_in_schema=False)

Analyst = Annotated[Principal, page_guard(Perm.RISK_MANAGE)]


@router.get("/risk")
def risk(request: Request, principal: Analyst) -> Response:
    services = portal_of(request).services
    view = analyst.overview(services.risk, services.session_factory)
    charts = []
    if view.current is not None:
        for measure in ("precision", "recall"):
            charts.append(
                bar_chart(
                    chart_id=f"evaluation-{measure}",
                    title=f"{view.current.name}: {measure} by share of lines inspected",
                    desc=f"The model's {measure} on its holdout lines at 1, 2, 5 and 10% inspected, each beside "
                    "random selection of the same size",
                    bars=analyst.evaluation_bars(view.current.metrics, measure),
                    value_label=percent,
                    axis_max=1.0,
                )
            )
    rates = analyst.hit_rate_bars(view.offices)
    hit_chart = bar_chart(
        chart_id="hit-rates",
        title="Hit rates by office",
        desc="Violations found per control outcome recorded, per office: "
        + (", ".join(f"{b.label} {percent(b.value)}" for b in rates) or "no outcomes yet"),
        bars=rates,
        value_label=percent,
        axis_max=1.0,
    )
    context = {"view": view, "evaluation_charts": charts, "hit_chart": hit_chart}
    return render(request, "analyst/risk.html", context)
