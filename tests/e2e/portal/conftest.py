"""A real ClearGuard server (`clearguard serve` over HTTPS with the instance's own CA, on a var dir
made by `clearguard init`) on SQLite and on PostgreSQL, and Debian's Chromium driven by Playwright.

One server per database for the whole session (the fixture is session-scoped and parametrised, so
pytest runs every test of one database before starting the other). Each account signs in once per
server: `signed_in(username)` keeps its browser context, and tests open pages in it.

The browser trusts the instance's own server key: Chromium is started with
`--ignore-certificate-errors-spki-list` naming the SHA-256 of that key's SubjectPublicKeyInfo, a pin
of exactly this server (Debian's Chromium reads trust anchors from an NSS database that cannot be
written without certutil, which the machine does not have). Every other certificate is still checked.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import text

from clearguard import db
from clearguard.identity import totp

POSTGRES_URL_VAR = "CLEARGUARD_TEST_POSTGRES_URL"
CHROMIUM = os.environ.get("CLEARGUARD_CHROMIUM", "/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[3]
SCREENSHOTS = REPO / "var" / "screenshots"
CLEARGUARD = str(Path(sys.executable).parent / "clearguard")
# The account `clearguard init` does not make (no demo security account): created by the fixture
# with `clearguard users create`, it enrols TOTP through the portal at its first sign-in.
SECURITY_USER = "e2e-security"
_DEMO_LINE = re.compile(r"^\s+(\w+)\s+(\S+)\s+password (\S+)\s+totp (otpauth://\S+)$")
_MRN_LINE = re.compile(r"^demo declaration (\S+): MRN (\w+)")


@dataclass
class Account:
    username: str
    role: str
    password: str
    totp_secret: str | None = None
    last_step: int = -1


@dataclass
class Portal:
    name: str  # "sqlite" or "postgresql"
    base_url: str
    env: dict[str, str]
    var_dir: Path
    spki_pin: str
    accounts: dict[str, Account]
    demo_mrns: dict[str, str]  # demo file name -> MRN
    contexts: dict[str, Any] = field(default_factory=dict)

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [CLEARGUARD, *args], env=self.env, input=stdin, capture_output=True, text=True, timeout=120, check=False
        )

    def account_for_role(self, role: str) -> Account:
        for account in self.accounts.values():
            if account.role == role:
                return account
        raise KeyError(role)

    def url(self, path: str) -> str:
        return self.base_url + path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spki_pin(cert_pem: bytes) -> str:
    cert = x509.load_pem_x509_certificate(cert_pem)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def _database(name: str) -> tuple[str, str | None]:
    """(url, schema to drop afterwards) for a fresh database."""
    if name == "sqlite":
        return "", None
    url = os.environ.get(POSTGRES_URL_VAR)
    if not url:
        pytest.skip(f"{POSTGRES_URL_VAR} not set")
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    admin = db.make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}", schema


def _drop(schema: str) -> None:
    admin = db.make_engine(os.environ[POSTGRES_URL_VAR])
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _parse_init(output: str) -> tuple[dict[str, Account], dict[str, str]]:
    accounts: dict[str, Account] = {}
    mrns: dict[str, str] = {}
    for line in output.splitlines():
        if m := _DEMO_LINE.match(line):
            role, username, password, uri = m.groups()
            secret = re.search(r"secret=([A-Z2-7]+)", uri)
            accounts[username] = Account(username, role, password, secret.group(1) if secret else None)
        elif m := _MRN_LINE.match(line.strip()):
            mrns[m.group(1)] = m.group(2)
    return accounts, mrns


@pytest.fixture(scope="package", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def portal(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    name = request.param
    url, schema = _database(name)
    var_dir = tmp_path_factory.mktemp(f"portal-{name}")
    port = _free_port()
    base_url = f"https://localhost:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARGUARD_")}
    env |= {
        "CLEARGUARD_VAR_DIR": str(var_dir),
        "CLEARGUARD_CONFIG": str(var_dir / "clearguard.toml"),
        "CLEARGUARD_AUTH_ORIGINS": f'["{base_url}"]',
        "CLEARGUARD_LEDGER_BATCH_INTERVAL_MS": "50",
    }
    if url:
        env["CLEARGUARD_DATABASE_URL"] = url
    else:
        env["CLEARGUARD_DATABASE_URL"] = f"sqlite:///{var_dir / 'clearguard.db'}"
    portal = Portal(name, base_url, env, var_dir, "", {}, {})
    init = portal.cli("init")
    assert init.returncode == 0, init.stdout + init.stderr
    portal.accounts, portal.demo_mrns = _parse_init(init.stdout)
    assert portal.accounts and portal.demo_mrns, init.stdout
    password = "e2e-" + uuid.uuid4().hex  # random: this account exists only for this run
    made = portal.cli("users", "create", SECURITY_USER, "--role", "security", stdin=password + "\n")
    assert made.returncode == 0, made.stdout + made.stderr
    portal.accounts[SECURITY_USER] = Account(SECURITY_USER, "security", password)
    # A privileged role works only with current data-protection training (issue 18): recorded by the
    # server's operator, as an administration's training office would.
    today = date.today()
    trained = portal.cli(
        "training", "record", SECURITY_USER, "--course", "data-protection",
        "--completed", today.isoformat(), "--expires", (today + timedelta(days=365)).isoformat(),
    )
    assert trained.returncode == 0, trained.stdout + trained.stderr

    tls = var_dir / "keys" / "tls"
    portal.spki_pin = _spki_pin((tls / "server.pem").read_bytes())
    log = (var_dir / "server.log").open("w")
    server = subprocess.Popen(
        [CLEARGUARD, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        context = ssl.create_default_context(cafile=str(tls / "ca.pem"))
        deadline = time.monotonic() + 300  # importing the app takes long on a loaded machine
        while True:
            try:
                if httpx.get(base_url + "/health", verify=context, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("server did not start:\n" + (var_dir / "server.log").read_text())
            time.sleep(0.2)
        yield portal
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        if schema:
            _drop(schema)


# Package scope, not session: Playwright's sync API leaves its event loop marked as running in this
# thread while it is open, and every later test that calls asyncio.run() would fail. It stops when
# the portal's tests are done.
@pytest.fixture(scope="package")
def playwright_instance() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright_instance: Any, portal: Portal) -> Iterator[Any]:
    """Chromium trusting exactly this server's key (see the module's docstring)."""
    launched = playwright_instance.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", f"--ignore-certificate-errors-spki-list={portal.spki_pin}"],
    )
    try:
        yield launched
    finally:
        for context in portal.contexts.values():
            context.close()
        portal.contexts.clear()
        launched.close()


class ConsoleLog:
    """Console errors and failed requests of every page opened through `watch`."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.expected: list[re.Pattern[str]] = []

    def allow(self, pattern: str) -> None:
        """A console error the test provokes on purpose (Chromium logs a 403 or 404 document)."""
        self.expected.append(re.compile(pattern))

    def _console(self, message: Any) -> None:
        if message.type == "error" and not any(p.search(message.text) for p in self.expected):
            self.errors.append(f"console {message.type}: {message.text} ({message.location.get('url')})")

    def watch(self, page: Any) -> Any:
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        return page


@pytest.fixture
def console() -> Iterator[ConsoleLog]:
    """Fails the test when a page it opened logged a console error (a CSP violation included)."""
    log = ConsoleLog()
    yield log
    assert log.errors == []


def current_code(account: Account) -> str:
    """A TOTP code for a step the account has not used yet (the server refuses a replayed step)."""
    assert account.totp_secret, f"{account.username} has no TOTP secret yet"
    while True:
        now = datetime.now(UTC)
        step = int(now.timestamp()) // 30
        # Too close to the step's end: the code could expire on its way.
        if step > account.last_step and int(now.timestamp()) % 30 < 27:
            account.last_step = step
            return totp.code_at(account.totp_secret, now)
        time.sleep(0.5)


def sign_in(page: Any, portal: Portal, username: str) -> None:
    """Password then TOTP, or at a first sign-in the TOTP enrolment (the secret is read off the
    page, as a person types it into an app) and the recovery codes page."""
    account = portal.accounts[username]
    page.goto(portal.url("/login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    if "/login/enrol" in page.url:
        account.totp_secret = page.locator("#totp-secret").inner_text().strip()
        page.get_by_label("Code").fill(current_code(account))
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_load_state()
        assert page.locator("#recovery-codes li").count() >= 8
        page.get_by_role("link", name="I have kept them: continue").click()
    else:
        assert "/login/code" in page.url, page.url
        page.get_by_label("Code").fill(current_code(account))
        page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"sign-in of {username} failed at {page.url}: {page.content()[:500]}"


@pytest.fixture
def signed_in(browser: Any, portal: Portal, console: ConsoleLog) -> Any:
    """`signed_in(username)` -> a browser context of that account, signed in once per server."""

    def context_for(username: str) -> Any:
        if username not in portal.contexts:
            context = browser.new_context(base_url=portal.base_url)
            page = console.watch(context.new_page())
            sign_in(page, portal, username)
            page.close()
            portal.contexts[username] = context
        return portal.contexts[username]

    return context_for


@pytest.fixture
def open_page(signed_in: Any, console: ConsoleLog) -> Any:
    """`open_page(username)` -> a new page in that account's signed-in context, console watched."""
    opened: list[Any] = []

    def new_page(username: str) -> Any:
        page = console.watch(signed_in(username).new_page())
        opened.append(page)
        return page

    yield new_page
    for page in opened:
        page.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
