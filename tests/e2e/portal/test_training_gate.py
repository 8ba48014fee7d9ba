"""The staff-training gate in the browser (issue 18): an officer without current data-protection
training signs in and enrols its second factor, but every privileged page answers 403 naming the
training; recording the training opens the pages at once, in the same session."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from tests.e2e.portal.conftest import Account, ConsoleLog, Portal, sign_in

UNTRAINED = "e2e-untrained-officer"


def test_an_untrained_officer_is_refused_every_privileged_page_until_trained(
    browser: Any, portal: Portal, console: ConsoleLog
) -> None:
    if UNTRAINED not in portal.accounts:
        password = "e2e-" + uuid.uuid4().hex
        made = portal.cli(
            "users", "create", UNTRAINED, "--role", "officer", "--office", "GB000060", stdin=password + "\n"
        )
        assert made.returncode == 0, made.stdout + made.stderr
        portal.accounts[UNTRAINED] = Account(UNTRAINED, "officer", password)
    console.allow("403")  # Chromium logs the refused documents
    context = browser.new_context(base_url=portal.base_url)
    try:
        page = console.watch(context.new_page())
        sign_in(page, portal, UNTRAINED)  # sign-in and TOTP enrolment stay open
        for path in ("/officer", "/declarations"):
            answer = page.goto(portal.url(path))
            assert answer is not None and answer.status == 403, (path, answer and answer.status)
            text = page.locator("main").inner_text()
            assert "training" in text and "data-protection" in text and "never recorded" in text, text
        account = page.goto(portal.url("/account"))
        assert account is not None and account.status == 200  # the account's own page stays open

        today = date.today()
        recorded = portal.cli(
            "training", "record", UNTRAINED, "--course", "data-protection",
            "--completed", today.isoformat(), "--expires", (today + timedelta(days=365)).isoformat(),
        )
        assert recorded.returncode == 0, recorded.stdout + recorded.stderr
        opened = page.goto(portal.url("/officer"))
        assert opened is not None and opened.status == 200, page.content()[:500]
    finally:
        context.close()
