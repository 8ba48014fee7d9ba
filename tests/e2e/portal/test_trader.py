"""Traders and brokers in a real browser: lodging by upload and by form, findings beside the
fields, the receipt verified in the browser, amendments, mandates, and CSRF refusals."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from tests.e2e.portal.conftest import ConsoleLog, Portal

EXAMPLES = Path("/work/shared/examples")
_PACKAGED = Path(__file__).resolve().parents[3] / "src/clearguard/declarations/demo"


def _example(name: str) -> dict[str, Any]:
    path = EXAMPLES / name if (EXAMPLES / name).exists() else _PACKAGED / name
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def _rows(page: Any) -> int:
    page.goto("/declarations")
    return int(page.locator("table.grid tbody tr").count())


def test_trader_lodges_the_example_and_verifies_its_receipt_in_the_browser(
    open_page: Any, portal: Portal, tmp_path: Path
) -> None:
    doc = _example("h1-import.json")
    # A fresh LRN: the example itself was lodged by `clearguard init` (same LRN and content would
    # answer with that first MRN, as the API does).
    doc["lrn"] = "E2E-" + uuid.uuid4().hex[:12].upper()
    upload = tmp_path / "declaration.json"
    upload.write_text(json.dumps(doc))
    page = open_page("demo-trader")
    page.goto("/declarations/new")
    page.get_by_label("Declaration file (JSON)").set_input_files(str(upload))
    page.get_by_role("button", name="Lodge the file").click()
    page.wait_for_url("**/declarations/*?lodged=1")
    mrn = page.locator("#mrn").inner_text()
    assert len(mrn) == 18
    assert page.locator("#lodged").inner_text().startswith(f"Lodged. MRN {mrn}, channel ")
    assert page.locator("#channel").inner_text() in {"green", "yellow", "red"}
    page.get_by_role("button", name="Verify the receipt").click()
    result = page.locator("#verify-result.verified, #verify-result.failed")
    result.wait_for()
    assert result.inner_text().startswith("Verified: entry "), result.inner_text()
    # The new declaration is in the trader's list with its status and channel.
    page.goto("/declarations")
    row = page.locator("tr", has=page.get_by_role("link", name=mrn))
    assert row.count() == 1 and doc["lrn"] in row.inner_text()


def test_a_bad_declaration_shows_findings_beside_the_fields_and_stores_nothing(open_page: Any, tmp_path: Path) -> None:
    page = open_page("demo-trader")
    before = _rows(page)
    doc = _example("h1-import.json")
    doc["lrn"] = "E2E-BAD-" + uuid.uuid4().hex[:8].upper()
    doc["declarant"]["address"]["country"] = "XX"
    doc["items"][0]["commodity_code"] = "1234"
    upload = tmp_path / "bad.json"
    upload.write_text(json.dumps(doc))
    page.goto("/declarations/new")
    page.get_by_label("Declaration file (JSON)").set_input_files(str(upload))
    page.get_by_role("button", name="Lodge the file").click()
    page.wait_for_load_state()
    assert page.locator("#findings-summary").is_visible()
    # Each finding sits beside its field, tied to it for assistive technology, in the form that the
    # upload filled in.
    for field_id, text in (("f-declarant-address-country", "XX"), ("f-items-0-commodity_code", "1234")):
        finding = page.locator(f"#{field_id}-finding")
        assert finding.is_visible() and text in finding.inner_text(), field_id
        assert page.locator(f"#{field_id}").get_attribute("aria-invalid") == "true"
        assert f"{field_id}-finding" in (page.locator(f"#{field_id}").get_attribute("aria-describedby") or "")
        assert page.locator(f"#{field_id}").input_value() == text
    assert page.locator(".finding").count() == 2
    assert _rows(page) == before  # nothing stored

    # Corrected in the form, the same declaration lodges.
    page.goto("/declarations/new")
    page.get_by_label("Declaration file (JSON)").set_input_files(str(upload))
    page.get_by_role("button", name="Lodge the file").click()
    page.wait_for_load_state()
    page.get_by_label("Declarant country").fill("GB")
    page.get_by_label("Item 1 commodity code").fill("8517130000")
    page.get_by_role("button", name="Lodge the declaration").click()
    page.wait_for_url("**/declarations/*?lodged=1")
    assert _rows(page) == before + 1


def test_trader_amends_a_declaration_and_sees_both_versions(open_page: Any, tmp_path: Path) -> None:
    doc = _example("h1-import.json")
    doc["lrn"] = "E2E-AM-" + uuid.uuid4().hex[:10].upper()
    # Smartphones from a sanctioned origin: the risk rule RISK-ORIGIN-002 sends the declaration to a
    # control, so it is not released at once and may still be amended.
    doc["items"][0]["origin_country"] = "RU"
    upload = tmp_path / "d.json"
    upload.write_text(json.dumps(doc))
    page = open_page("demo-trader")
    page.goto("/declarations/new")
    page.get_by_label("Declaration file (JSON)").set_input_files(str(upload))
    page.get_by_role("button", name="Lodge the file").click()
    page.wait_for_url("**/declarations/*?lodged=1")
    mrn = page.locator("#mrn").inner_text()
    assert page.locator("#status").inner_text() != "released"
    page.get_by_role("link", name="Amend this declaration").click()
    page.wait_for_url(f"**/declarations/{mrn}/amend")
    amended = json.loads(page.get_by_label("Declaration (JSON)").input_value())
    amended["total_packages"] = 161
    page.get_by_label("Declaration (JSON)").fill(json.dumps(amended))
    page.get_by_label("Reason").fill("one more carton found at packing")
    page.get_by_role("button", name="Lodge the amendment").click()
    page.wait_for_url(f"**/declarations/{mrn}")
    assert page.locator("caption", has_text="2 versions").count() == 1


def test_broker_cannot_open_or_lodge_for_an_unmandated_trader(
    open_page: Any, portal: Portal, tmp_path: Path, console: ConsoleLog
) -> None:
    console.allow(r"status of 404 \(Not Found\)")  # the unmandated record, asked for on purpose
    nl_mrn = portal.demo_mrns["h7-low-value.json"]  # lodged for NL812345678: no mandate to the broker
    gb_mrn = portal.demo_mrns["h1-import.json"]  # the mandating trader's
    page = open_page("demo-broker")
    page.goto("/declarations")
    assert page.get_by_role("link", name=gb_mrn).count() == 1
    assert page.get_by_role("link", name=nl_mrn).count() == 0
    # By URL editing: the same answer as for a record that does not exist.
    answer = page.goto(f"/declarations/{nl_mrn}")
    assert answer is not None and answer.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    assert "NL812345678" not in page.content()
    answer = page.goto(f"/declarations/{nl_mrn}/amend")
    assert answer is not None and answer.status == 404
    # Lodging for the unmandated trader is refused beside the declarant's EORI, and stores nothing.
    before = _rows(page)
    doc = _example("h1-import.json")
    doc["lrn"] = "E2E-BR-" + uuid.uuid4().hex[:10].upper()
    doc["declarant"]["eori"] = doc["importer"]["eori"] = "GB555555555000"
    upload = tmp_path / "b.json"
    upload.write_text(json.dumps(doc))
    page.goto("/declarations/new")
    page.get_by_label("Declaration file (JSON)").set_input_files(str(upload))
    page.get_by_role("button", name="Lodge the file").click()
    page.wait_for_load_state()
    assert "mandate" in page.locator("#f-declarant-eori-finding").inner_text()
    assert _rows(page) == before


_POST = """async ([url, form, headers]) => {
  const answer = await fetch(url, {method: "POST", body: new URLSearchParams(form), headers: headers,
                                   redirect: "manual", credentials: "same-origin"});
  return [answer.status, await answer.text()];
}"""


def test_state_changes_without_the_csrf_token_are_refused(open_page: Any, portal: Portal, console: ConsoleLog) -> None:
    console.allow(r"status of 403 \(Forbidden\)")  # the refusals provoked here
    page = open_page("demo-trader")
    page.goto("/declarations/new")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    before = _rows(page)
    form = {"/lrn": "E2E-CSRF-" + uuid.uuid4().hex[:8].upper(), "/declarant/eori": "GB123456789000"}
    # From the signed-in page itself (its session cookie goes along): only the token is missing or wrong.
    for extra in ({}, {"csrf": "not-the-token"}, {"csrf": token[:-2] + "xx"}):
        status, body = page.evaluate(_POST, [portal.url("/declarations"), {**form, **extra}, {}])
        assert status == 403, extra
        assert "security token" in body
    status, _ = page.evaluate(_POST, [portal.url("/logout"), {}, {}])
    assert status == 403
    # htmx sends the token as a header: a wrong one is refused the same way, the right one passes.
    status, _ = page.evaluate(_POST, [portal.url("/declarations"), form, {"X-CSRF-Token": "x"}])
    assert status == 403
    status, body = page.evaluate(_POST, [portal.url("/declarations"), form, {"X-CSRF-Token": token}])
    assert status == 200 and "findings-summary" in body  # accepted, then refused by validation
    assert _rows(page) == before
    page.goto("/account")  # still signed in: the refused sign-out did nothing
    assert page.locator("h1").inner_text() == "Your account"


def test_the_status_filter_swaps_only_the_table_through_htmx(open_page: Any, portal: Portal) -> None:
    page = open_page("demo-trader")
    page.goto("/declarations")
    page.evaluate("() => { window.__marker = 'same page' }")  # gone if the page were reloaded
    with page.expect_response(lambda r: "/declarations?status=invalidated" in r.url) as answer:
        page.get_by_label("Status").select_option("invalidated")
    assert answer.value.request.headers.get("hx-request") == "true"
    page.locator("#results p").wait_for()
    assert page.locator("#results").inner_text() == "No declarations with status invalidated."
    assert page.evaluate("() => window.__marker") == "same page"
    assert page.url.endswith("/declarations?status=invalidated")
    # The same URL opened directly renders the whole page.
    page.goto("/declarations?status=invalidated")
    assert page.locator("h1").inner_text() == "Declarations"
