"""Passkeys in a real browser: Chromium's virtual authenticator (DevTools WebAuthn domain) stands
for the device; the portal registers a passkey on the account page and signs in with it."""

from __future__ import annotations

from typing import Any

from tests.e2e.portal.conftest import ConsoleLog, Portal, sign_in

USER = "demo-officer-nl"  # an account no other browser test signs in with


def test_a_passkey_added_on_the_account_page_signs_in_instead_of_the_code(
    browser: Any, portal: Portal, console: ConsoleLog
) -> None:
    context = browser.new_context(base_url=portal.base_url)
    try:
        page = console.watch(context.new_page())
        devtools = context.new_cdp_session(page)
        devtools.send("WebAuthn.enable")
        devtools.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                }
            },
        )
        sign_in(page, portal, USER)
        page.goto("/account")
        page.get_by_role("button", name="Add a passkey").click()
        page.wait_for_url("**/account?passkey=added")
        assert page.locator("#passkey-added").is_visible()

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/login")
        page.get_by_label("Username").fill(USER)
        page.get_by_label("Password").fill(portal.accounts[USER].password)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/login/code")
        page.get_by_role("button", name="Sign in with a passkey").click()
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto("/account")
        assert page.locator("h1").inner_text() == "Your account"
        assert USER in page.locator(".who").inner_text()
    finally:
        context.close()
