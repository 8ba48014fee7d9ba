"""Roles (DESIGN.md, Who uses it) and the permissions each one holds.

A route declares one permission; a role either holds it or the route answers 403. Ownership of the
record (party, mandate, office) is decided afterwards by the policy, record by record.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Role(StrEnum):
    TRADER = "trader"
    BROKER = "broker"
    OFFICER = "officer"
    RISK_ANALYST = "risk_analyst"
    AUDITOR = "auditor"
    DPO = "dpo"
    ADMIN = "admin"
    PARTNER = "partner"
    # Security staff: detection's alerts, triage and the activity store; never declaration contents.
    SECURITY = "security"


class Perm:
    """Permission names, `area:action`. Routes name them in `require(...)`."""

    DECLARATIONS_LODGE: Final = "declarations:lodge"
    DECLARATIONS_AMEND: Final = "declarations:amend"
    DECLARATIONS_READ: Final = "declarations:read"
    DECLARATIONS_DECIDE: Final = "declarations:decide"
    DECLARATIONS_EXPORT: Final = "declarations:export"
    # An office's work queue (the portal's officer pages): what awaits a decision, ordered by risk.
    DECLARATIONS_QUEUE: Final = "declarations:queue"
    RISK_MANAGE: Final = "risk:manage"
    AUDIT_READ: Final = "audit:read"
    LEDGER_READ: Final = "ledger:read"
    PRIVACY_MANAGE: Final = "privacy:manage"
    # A trader's (or broker's) subject access report on its own EORI, never on another party.
    PRIVACY_OWN_REPORT: Final = "privacy:own-report"
    USERS_MANAGE: Final = "users:manage"
    KEYS_MANAGE: Final = "keys:manage"
    CONFIG_MANAGE: Final = "config:manage"
    SHARING_RECEIVE: Final = "sharing:receive"
    # Agreements with partner administrations (the DPO or an administrator, with step-up).
    SHARING_MANAGE: Final = "sharing:manage"
    # The identity behind a pseudonym given to a partner: the DPO alone, with step-up, audited.
    SHARING_REIDENTIFY: Final = "sharing:reidentify"
    # Traveller clearance records (biometric): officers of the record's office only.
    TRAVELLERS_RECORD: Final = "travellers:record"
    TRAVELLERS_READ: Final = "travellers:read"
    # Detection (issue 16): alerts and notices, triage verdicts (which may lock accounts), activity.
    DETECTION_ALERTS: Final = "detection:alerts"
    DETECTION_TRIAGE: Final = "detection:triage"
    DETECTION_ACTIVITY: Final = "detection:activity"
    # Staff training records (issue 18): reading them and the reminders; recording a completion
    # (which opens a privileged account's actions, so with step-up).
    TRAINING_READ: Final = "training:read"
    TRAINING_MANAGE: Final = "training:manage"
    # Any authenticated account managing its own authenticators and sessions.
    SELF: Final = "self"
    # Routes open without a token (health, login steps); the walker accepts these.
    PUBLIC: Final = "public"


# Permissions that need an MFA proof younger than the step-up window (issue 3, MFA).
STEP_UP_PERMISSIONS: Final = frozenset(
    {Perm.DECLARATIONS_DECIDE, Perm.DECLARATIONS_EXPORT, Perm.KEYS_MANAGE, Perm.USERS_MANAGE}
    | {Perm.SHARING_MANAGE, Perm.SHARING_REIDENTIFY, Perm.DETECTION_TRIAGE}
    | {Perm.TRAINING_MANAGE}
)

ROLE_PERMISSIONS: Final[dict[Role, frozenset[str]]] = {
    Role.TRADER: frozenset(
        {Perm.DECLARATIONS_LODGE, Perm.DECLARATIONS_AMEND, Perm.DECLARATIONS_READ, Perm.PRIVACY_OWN_REPORT}
    ),
    Role.BROKER: frozenset(
        {Perm.DECLARATIONS_LODGE, Perm.DECLARATIONS_AMEND, Perm.DECLARATIONS_READ, Perm.PRIVACY_OWN_REPORT}
    ),
    Role.OFFICER: frozenset(
        {
            Perm.DECLARATIONS_READ,
            Perm.DECLARATIONS_DECIDE,
            Perm.DECLARATIONS_EXPORT,
            Perm.DECLARATIONS_QUEUE,
            Perm.TRAVELLERS_RECORD,
            Perm.TRAVELLERS_READ,
        }
    ),
    # Reads pseudonymised declarations across offices; redaction removes protected categories.
    Role.RISK_ANALYST: frozenset({Perm.DECLARATIONS_READ, Perm.RISK_MANAGE}),
    # Reads metadata only (redaction removes every content category); never writes.
    Role.AUDITOR: frozenset({Perm.DECLARATIONS_READ, Perm.AUDIT_READ, Perm.LEDGER_READ}),
    Role.DPO: frozenset({Perm.PRIVACY_MANAGE, Perm.AUDIT_READ, Perm.SHARING_MANAGE, Perm.SHARING_REIDENTIFY})
    | {Perm.TRAINING_READ, Perm.TRAINING_MANAGE},
    # Separation of duties: no declaration permission at all.
    Role.ADMIN: frozenset(
        {Perm.USERS_MANAGE, Perm.KEYS_MANAGE, Perm.CONFIG_MANAGE, Perm.AUDIT_READ, Perm.SHARING_MANAGE}
        | {Perm.TRAINING_READ, Perm.TRAINING_MANAGE}
    ),
    Role.PARTNER: frozenset({Perm.SHARING_RECEIVE}),
    Role.SECURITY: frozenset({Perm.DETECTION_ALERTS, Perm.DETECTION_TRIAGE, Perm.DETECTION_ACTIVITY}),
}


def holds(role: Role, permission: str) -> bool:
    if permission in (Perm.SELF, Perm.PUBLIC):
        return True
    return permission in ROLE_PERMISSIONS[role]


def known_permissions() -> frozenset[str]:
    names = {value for key, value in vars(Perm).items() if key.isupper()}
    return frozenset(names)
