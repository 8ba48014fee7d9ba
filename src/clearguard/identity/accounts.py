"""Account administration: create, list, disable, reset MFA. Each takes the caller's session, so the
change commits with the caller's audit event or not at all."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from clearguard.access.mandates import check_eori
from clearguard.access.roles import Role
from clearguard.errors import Conflict, InputError, NotFound
from clearguard.identity.passwords import PasswordService, check_password
from clearguard.identity.tables import (
    Account,
    AuthSession,
    MfaChallenge,
    RecoveryCode,
    WebAuthnCredential,
)

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]$")
OFFICE_RE = re.compile(r"^[A-Z]{2}[0-9A-Z]{6}$")

# Roles acting for a party need one; officers need an office (their queue).
NEEDS_PARTY = frozenset({Role.TRADER, Role.BROKER})
NEEDS_OFFICE = frozenset({Role.OFFICER})


def normalize_username(username: str) -> str:
    return username.strip().lower()


def parse_role(role: str) -> Role:
    try:
        return Role(role.strip().lower())
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise InputError(f"role: unknown role {role!r} (one of {allowed})", field="role") from None


def create_account(
    session: Session,
    passwords: PasswordService,
    *,
    username: str,
    role: Role | str,
    password: str,
    now: datetime,
    party_eori: str | None = None,
    office: str | None = None,
) -> Account:
    name = normalize_username(username)
    if not USERNAME_RE.fullmatch(name):
        raise InputError("username: 3-64 of a-z 0-9 . _ - starting and ending alphanumeric", field="username")
    role = parse_role(role) if isinstance(role, str) else role
    party = check_eori(party_eori, field="party") if party_eori else None
    office_code = office.strip().upper() if office else None
    if office_code is not None and not OFFICE_RE.fullmatch(office_code):
        raise InputError("office: a customs office reference number such as GB000085", field="office")
    if role in NEEDS_PARTY and party is None:
        raise InputError(f"party: a {role.value} account needs --party EORI", field="party")
    if role in NEEDS_OFFICE and office_code is None:
        raise InputError(f"office: an {role.value} account needs --office CODE", field="office")
    check_password(password, user_inputs=[name, party or "", "clearguard"])
    if session.scalar(select(Account.id).where(Account.username == name)) is not None:
        raise Conflict(f"username: {name!r} already exists", field="username")
    account = Account(
        username=name,
        role=role.value,
        party_eori=party,
        office=office_code,
        password_hash=passwords.hash(password),
        disabled=False,
        totp_confirmed=False,
        webauthn_user_handle=secrets.token_bytes(32),
        created_at=now,
    )
    session.add(account)
    session.flush()
    return account


def get_account(session: Session, username: str) -> Account:
    account = session.scalars(select(Account).where(Account.username == normalize_username(username))).one_or_none()
    if account is None:
        raise NotFound(f"username: no account {username!r}", field="username")
    return account


def list_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.username)))


def revoke_all_sessions(session: Session, account_id: int, *, now: datetime, reason: str) -> int:
    result = session.execute(
        update(AuthSession)
        .where(AuthSession.account_id == account_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    session.execute(delete(MfaChallenge).where(MfaChallenge.account_id == account_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def is_locked(account: Account, now: datetime) -> bool:
    return account.locked_until is not None and account.locked_until > now


def disable_account(session: Session, username: str, *, now: datetime) -> Account:
    account = get_account(session, username)
    account.disabled = True
    revoke_all_sessions(session, account.id, now=now, reason="disabled")
    return account


def enable_account(session: Session, username: str) -> Account:
    account = get_account(session, username)
    account.disabled = False
    return account


def reset_mfa(session: Session, username: str, *, now: datetime) -> Account:
    """Remove every second factor; the next login enrols again. Revokes all sessions."""
    account = get_account(session, username)
    account.totp_secret = None
    account.totp_confirmed = False
    account.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    session.execute(delete(WebAuthnCredential).where(WebAuthnCredential.account_id == account.id))
    revoke_all_sessions(session, account.id, now=now, reason="mfa-reset")
    return account


def set_role(session: Session, username: str, role: Role | str, *, now: datetime) -> Account:
    """Role change: existing sessions carry the old role, so they are revoked."""
    account = get_account(session, username)
    account.role = (parse_role(role) if isinstance(role, str) else role).value
    revoke_all_sessions(session, account.id, now=now, reason="role-change")
    return account


def has_mfa(session: Session, account: Account) -> bool:
    if account.totp_confirmed:
        return True
    return session.scalar(select(WebAuthnCredential.id).where(WebAuthnCredential.account_id == account.id)) is not None


@dataclass(frozen=True, slots=True)
class AccountActivity:
    """What the security self-audit needs of an account: never a secret."""

    username: str
    role: str
    disabled: bool
    mfa: bool
    created_at: datetime
    last_sign_in: datetime | None  # the newest session's start (a session needs both factors)


def account_activity(session: Session) -> list[AccountActivity]:
    """Every account with its second factors and last sign-in, in three queries whatever the count."""
    newest = select(AuthSession.account_id, func.max(AuthSession.created_at)).group_by(AuthSession.account_id)
    last = dict(session.execute(newest).tuples().all())
    passkeys = set(session.scalars(select(WebAuthnCredential.account_id).distinct()))
    return [
        AccountActivity(
            a.username, a.role, a.disabled, a.totp_confirmed or a.id in passkeys, a.created_at, last.get(a.id)
        )
        for a in session.scalars(select(Account).order_by(Account.username))
    ]
