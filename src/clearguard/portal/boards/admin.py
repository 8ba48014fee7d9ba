"""The administrator's view: accounts with their roles, second factors and brokers' mandates; what each
role may do (the one permission table, access.roles); the key-encryption keys' status. Separation of
duties: nothing here shows a declaration."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from clearguard.access.principal import Principal
from clearguard.access.roles import ROLE_PERMISSIONS, STEP_UP_PERMISSIONS, Role
from clearguard.crypto.errors import KeyUnavailable
from clearguard.crypto.service import CryptoService, KeyStatus
from clearguard.identity.service import AccountSummary, IdentityService


@dataclass(frozen=True, slots=True)
class RoleRow:
    role: str
    permissions: list[tuple[str, bool]]  # (permission, needs step-up)


@dataclass(frozen=True, slots=True)
class AdminOverview:
    accounts: list[AccountSummary]
    roles: list[RoleRow]
    keys: KeyStatus | None  # None: this instance has no envelope-encryption service


def roles() -> list[RoleRow]:
    return [
        RoleRow(role.value, [(p, p in STEP_UP_PERMISSIONS) for p in sorted(ROLE_PERMISSIONS[role])]) for role in Role
    ]


def key_status(crypto: CryptoService | None, factory: sessionmaker[Session]) -> KeyStatus | None:
    if crypto is None:
        return None
    try:
        with factory() as session:
            return crypto.status(session)
    except KeyUnavailable:
        return None


def overview(identity: IdentityService, crypto: CryptoService | None, factory: sessionmaker[Session]) -> AdminOverview:
    return AdminOverview(identity.account_summaries(), roles(), key_status(crypto, factory))


def administer(
    identity: IdentityService, principal: Principal, username: str, action: str, *, source: str
) -> AccountSummary:
    return identity.administer(username, action, by=principal, source=source)
