"""The officer in a real browser: the office's queue ordered by risk with its chart, the reasons for a
channel, a release with step-up, a control outcome, break-glass with a justification."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.portal.conftest import Portal, screenshot
from tests.e2e.portal.roles_env import chart, fresh_second_factor, lodge_for_control, require_step_up, step_up

OFFICER = "demo-officer"


def test_queue_lists_the_office_declarations_with_the_queue_by_channel(
    open_page: Any, portal: Portal, tmp_path: Path
) -> None:
    mrn = lodge_for_control(portal, tmp_path)
    page = open_page(OFFICER)
    page.goto(portal.url("/officer"))
    assert page.locator("h1").inner_text() == "Office queue"
    rows = page.locator("#queue tbody tr")
    assert mrn in page.locator("#queue").inner_text()
    channels = {rows.nth(i).locator("td").nth(3).locator(".channel").inner_text() for i in range(rows.count())}
    drawn = chart(page, "queue-by-channel")
    assert drawn["title"] == "Queue by channel"
    assert sorted(drawn["labels"]) == sorted(channels)  # one bar per channel present in the queue
    assert sum(v for v, _ in drawn["bars"]) == rows.count()
    screenshot(page, f"officer-home-{portal.name}")


def test_officer_releases_a_declaration_with_step_up(open_page: Any, portal: Portal, tmp_path: Path) -> None:
    mrn = lodge_for_control(portal, tmp_path)
    page = open_page(OFFICER)
    page.goto(portal.url(f"/officer/declarations/{mrn}"))
    assert page.locator("#status").inner_text() == "under_control"
    # The embargoed origin is the reason for the channel, shown beside the score.
    assert "RISK-ORIGIN-001" in page.locator("main").inner_text()
    require_step_up(portal, OFFICER)
    page.get_by_label("Decision", exact=True).select_option("release")
    page.get_by_label("Reason").fill("documents checked, goods match the invoice")
    page.get_by_role("button", name="Record decision").click()
    step_up(page, portal, OFFICER)
    page.goto(portal.url(f"/officer/declarations/{mrn}"))
    assert page.locator("#status").inner_text() == "under_control"  # nothing was decided without the code
    page.get_by_label("Decision", exact=True).select_option("release")
    page.get_by_label("Reason").fill("documents checked, goods match the invoice")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state()
    assert page.locator("#status").inner_text() == "released"
    assert "documents checked" in page.locator("#events").inner_text()


def test_control_outcome_is_recorded_once_and_bad_input_is_refused(
    signed_in: Any, portal: Portal, tmp_path: Path
) -> None:
    mrn = lodge_for_control(portal, tmp_path)
    # Not console-watched: the refusals below are error pages (400, 409), which Chromium logs.
    page = signed_in(OFFICER).new_page()
    fresh_second_factor(page, portal, OFFICER, f"/officer/declarations/{mrn}")
    page.goto(portal.url(f"/officer/declarations/{mrn}"))
    page.get_by_label("Result").select_option("violation")
    page.get_by_label("Duty recovered").fill("-5")
    page.get_by_role("button", name="Record outcome").click()
    page.wait_for_load_state()
    assert "duty_recovered" in page.locator("main").inner_text()  # the field named, nothing stored
    page.goto(portal.url(f"/officer/declarations/{mrn}"))
    page.get_by_label("Result").select_option("violation")
    page.get_by_label("Duty recovered").fill("120.50")
    page.get_by_label("Note").fill("undervalued invoice")
    page.get_by_role("button", name="Record outcome").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/officer/declarations/{mrn}")
    page.get_by_label("Result").select_option("none")
    page.get_by_role("button", name="Record outcome").click()
    page.wait_for_load_state()
    assert "already recorded" in page.locator("main").inner_text()
    page.close()


def test_break_glass_opens_another_office_record_read_only(open_page: Any, portal: Portal, tmp_path: Path) -> None:
    other = lodge_for_control(portal, tmp_path, office="GB000085")
    page = open_page(OFFICER)
    page.goto(portal.url("/officer"))
    assert other not in page.locator("main").inner_text()
    page.get_by_label("MRN").fill(other)
    page.get_by_label("Justification").fill("suspected smuggling ring, case 2026-114")
    page.get_by_role("button", name="Open with break-glass").click()
    page.wait_for_load_state()
    assert page.locator("#mrn").inner_text() == other
    assert "Opened with break-glass" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Record decision").count() == 0
