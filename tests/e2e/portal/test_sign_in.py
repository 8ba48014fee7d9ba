"""Sign-in in a real browser: password + TOTP, first-time enrolment, the session cookie, sign-out."""

from __future__ import annotations

from typing import Any

from tests.e2e.portal.conftest import SECURITY_USER, ConsoleLog, Portal, sign_in


def test_trader_signs_in_with_totp_and_lands_on_its_declarations(
    browser: Any, portal: Portal, console: ConsoleLog
) -> None:
    context = browser.new_context(base_url=portal.base_url)
    try:
        page = console.watch(context.new_page())
        sign_in(page, portal, "demo-trader")
        assert page.url == portal.url("/declarations")
        assert page.locator("h1").inner_text() == "Declarations"
        cookie = next(c for c in context.cookies() if c["name"] == "__Host-cg_session")
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        # Signing out ends the identity session: the old cookie no longer opens a page.
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/login")
        context.add_cookies([{**cookie}])
        page.goto(portal.url("/declarations"))
        assert "/login" in page.url
    finally:
        context.close()


def test_first_sign_in_enrols_totp_with_a_qr_code_and_recovery_codes(signed_in: Any, portal: Portal) -> None:
    context = signed_in(SECURITY_USER)  # created without MFA: sign_in went through the enrolment
    assert portal.accounts[SECURITY_USER].totp_secret
    page = context.new_page()
    page.goto(portal.url("/account"))
    assert page.locator("h1").inner_text() == "Your account"
    page.close()


def test_wrong_password_is_refused_on_the_page(browser: Any, portal: Portal, console: ConsoleLog) -> None:
    context = browser.new_context(base_url=portal.base_url)
    try:
        page = context.new_page()
        page.goto(portal.url("/login"))
        page.get_by_label("Username").fill("demo-trader")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state()
        assert page.get_by_role("alert").inner_text() == "Invalid credentials"
        assert "/login" in page.url
    finally:
        context.close()


def test_pages_carry_the_strict_csp_and_stay_out_of_the_openapi(
    browser: Any, portal: Portal, console: ConsoleLog
) -> None:
    context = browser.new_context(base_url=portal.base_url)
    try:
        page = console.watch(context.new_page())
        answer = page.goto(portal.url("/login"))
        assert answer is not None and answer.status == 200
        headers = answer.headers
        assert headers["content-security-policy"] == (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
            "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
        )
        assert headers["cache-control"] == "no-store"
        assert "max-age=" in headers["strict-transport-security"]
        config = page.locator('meta[name="htmx-config"]').get_attribute("content") or ""
        assert '"includeIndicatorStyles":false' in config
        assert page.evaluate("() => typeof htmx !== 'undefined' && htmx.version") == "2.0.11"
        paths = page.evaluate("async () => Object.keys((await (await fetch('/openapi.json')).json()).paths)")
        assert "/login" not in paths and "/declarations" not in paths and "/api/v1/declarations" in paths
        favicon = page.evaluate("async () => (await fetch('/static/favicon.svg')).status")
        assert favicon == 200
    finally:
        context.close()
