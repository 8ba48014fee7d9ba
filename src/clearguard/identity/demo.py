"""Demo accounts of every role, for `clearguard init` (development only: passwords are printed)."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clearguard.access.mandates import grant_mandate
from clearguard.access.roles import Role
from clearguard.config import Settings, get_settings
from clearguard.identity import totp
from clearguard.identity.accounts import create_account
from clearguard.identity.passwords import PasswordService
from clearguard.identity.service import passwords_from
from clearguard.identity.tables import Account
from clearguard.identity.totp_secrets import TotpSecrets

# Parties and offices of the shipped example declarations (../shared/examples).
DEMO_ACCOUNTS: tuple[tuple[str, Role, str | None, str | None], ...] = (
    ("demo-trader", Role.TRADER, "GB123456789000", None),
    ("demo-trader-nl", Role.TRADER, "NL812345678", None),
    ("demo-broker", Role.BROKER, "GB987654321000", None),
    ("demo-officer", Role.OFFICER, None, "GB000060"),
    ("demo-officer-nl", Role.OFFICER, None, "NL000396"),
    ("demo-analyst", Role.RISK_ANALYST, None, None),
    ("demo-auditor", Role.AUDITOR, None, None),
    ("demo-dpo", Role.DPO, None, None),
    ("demo-admin", Role.ADMIN, None, None),
    ("demo-partner", Role.PARTNER, None, None),
)
# Names the self-audit flags when enabled outside dev (ASVS V6.3.2: no default accounts).
DEMO_USERNAMES: frozenset[str] = frozenset(name for name, _role, _party, _office in DEMO_ACCOUNTS)
# The demo broker holds a mandate from the GB demo trader.
DEMO_MANDATE = ("demo-broker", "GB123456789000")


def demo_password() -> str:
    return "-".join(secrets.token_urlsafe(6) for _ in range(4))  # ~190 bits, always passes zxcvbn


def create_demo_accounts(
    session: Session,
    *,
    now: datetime | None = None,
    settings: Settings | None = None,
    passwords: PasswordService | None = None,
    totp_secrets: TotpSecrets,
) -> list[tuple[str, str, str, str]]:
    """Create the missing demo accounts, TOTP already enrolled; returns (username, role, password,
    totp_secret) for each one created. Existing accounts are left alone (their secrets are unknown)."""
    now = now or datetime.now(UTC)
    passwords = passwords or passwords_from(settings or get_settings())
    existing = set(session.scalars(select(Account.username)))
    created: list[tuple[str, str, str, str]] = []
    for username, role, party, office in DEMO_ACCOUNTS:
        if username in existing:
            continue
        password = demo_password()
        account = create_account(
            session,
            passwords,
            username=username,
            role=role,
            password=password,
            now=now,
            party_eori=party,
            office=office,
        )
        seed = totp.new_secret()
        totp_secrets.put(account, seed)
        account.totp_confirmed = True
        created.append((username, role.value, password, seed))
        if username == DEMO_MANDATE[0]:
            grant_mandate(
                session,
                broker_id=account.id,
                trader_eori=DEMO_MANDATE[1],
                valid_until=date(now.year + 1, 12, 31),
                now=now,
                granted_by="init",
            )
    return created


def login_hint(username: str, role: str, password: str, totp_secret: str) -> str:
    uri = totp.enrolment(totp_secret, account=username, issuer="ClearGuard").otpauth_uri
    return f"{role:<13} {username:<16} password {password}  totp {uri}"
