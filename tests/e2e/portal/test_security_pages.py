"""Security staff in a real browser: an alert raised by real failed sign-ins, alerts over time as a
chart, triage with step-up."""

from __future__ import annotations

import ssl
import uuid
from typing import Any

import httpx

from tests.e2e.portal.conftest import SECURITY_USER, Portal, screenshot
from tests.e2e.portal.roles_env import chart, require_step_up, step_up


def raise_alert(portal: Portal) -> None:
    """8 failed sign-ins on unknown names from this address: detection's brute force from one source."""
    context = ssl.create_default_context(cafile=str(portal.var_dir / "keys" / "tls" / "ca.pem"))
    tag = uuid.uuid4().hex[:8]
    with httpx.Client(base_url=portal.base_url, verify=context, timeout=10) as client:
        for i in range(8):
            r = client.post("/api/v1/auth/login", json={"username": f"nobody-{tag}-{i}", "password": "wrong-password"})
            assert r.status_code == 401, r.text


def test_security_triages_an_alert_with_step_up(open_page: Any, portal: Portal) -> None:
    raise_alert(portal)
    page = open_page(SECURITY_USER)
    page.goto(portal.url("/security/alerts?status=open"))
    assert page.locator("h1").inner_text() == "Alerts"
    drawn = chart(page, "alerts-over-time")
    assert len(drawn["bars"]) == 14 and drawn["bars"][-1][0] >= 1
    row = page.locator("#alerts tbody tr", has_text="127.0.0.1").first
    alert_id = row.get_attribute("id")
    screenshot(page, f"security-home-{portal.name}")
    require_step_up(portal, SECURITY_USER)
    row.get_by_label("Verdict").select_option("acknowledge")
    row.get_by_label("Note").fill("harness noise, watching")
    row.get_by_role("button").click()
    step_up(page, portal, SECURITY_USER)
    row = page.locator(f"#{alert_id}")
    row.get_by_label("Verdict").select_option("acknowledge")
    row.get_by_label("Note").fill("harness noise, watching")
    row.get_by_role("button").click()
    page.wait_for_load_state()
    page.goto(portal.url("/security/alerts?status=acknowledged"))
    assert page.locator(f"#{alert_id} .alert-status").inner_text() == "acknowledged"
