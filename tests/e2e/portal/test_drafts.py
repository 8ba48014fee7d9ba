"""A trader in a real browser: saves a declaration as a draft from the lodging form, finds it under
Drafts, reopens it prefilled, lodges it and sees the MRN; the draft is gone afterwards."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from tests.e2e.portal.test_trader import _example


def test_trader_saves_a_draft_finds_it_and_lodges_it(open_page: Any, tmp_path: Path) -> None:
    doc = _example("h1-import.json")
    doc["lrn"] = "E2E-DRAFT-" + uuid.uuid4().hex[:8].upper()
    upload = tmp_path / "draft.json"
    upload.write_text(json.dumps(doc))
    page = open_page("demo-trader")
    page.goto("/declarations/new")
    page.get_by_label("Declaration file (JSON)").set_input_files(str(upload))
    page.get_by_role("button", name="Save the file as a draft").click()
    page.wait_for_url("**/drafts/*?saved=1")
    assert page.locator("#draft-saved").is_visible()

    # Drafts is in the menu; the draft is listed under its LRN and reopens the form prefilled.
    page.locator("nav .menu a", has_text="Drafts").click()
    page.wait_for_url("**/drafts")
    page.get_by_role("link", name=doc["lrn"]).click()
    page.wait_for_url(re.compile(r"/drafts/[A-Za-z0-9_-]+$"))
    assert page.locator("h1").inner_text() == f"Draft {doc['lrn']}"
    assert page.locator("#f-lrn").input_value() == doc["lrn"]
    assert page.locator("#f-declarant-eori").input_value() == doc["declarant"]["eori"]

    page.get_by_role("button", name="Lodge the draft").click()
    page.wait_for_url("**/declarations/*?lodged=1")
    mrn = page.locator("#mrn").inner_text()
    assert len(mrn) == 18
    assert page.locator("#lodged").inner_text().startswith(f"Lodged. MRN {mrn}")

    page.goto("/drafts")
    assert page.get_by_role("link", name=doc["lrn"]).count() == 0
