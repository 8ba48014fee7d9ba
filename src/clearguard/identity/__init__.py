"""Identity: accounts, passwords, TOTP, WebAuthn passkeys, recovery codes, sessions and tokens.

The service is the one way in; the entry layer (API plumbing, wiring, setup) uses what is named here."""

from clearguard.identity.accounts import AccountActivity
from clearguard.identity.clock import Clock
from clearguard.identity.demo import DEMO_USERNAMES, create_demo_accounts, login_hint
from clearguard.identity.errors import InvalidToken
from clearguard.identity.service import IdentityService

__all__ = [
    "DEMO_USERNAMES",
    "AccountActivity",
    "Clock",
    "IdentityService",
    "InvalidToken",
    "create_demo_accounts",
    "login_hint",
]
