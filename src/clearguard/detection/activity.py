"""The pure mapping from an audit event to the activity vocabulary of issue 16 (auth.login, ...,
key.operation): which audit actions are staff activity, with which action name and outcome. No I/O.

Every audit action is either mapped here or named in NOT_ACTIVITY with the reason, so that a new
audit action cannot be lost silently (a unit test checks the two sets cover what the code records).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

ACTIONS: Final = frozenset(
    {
        "auth.login", "auth.mfa", "auth.refresh", "declaration.lodge", "declaration.read",
        "declaration.list", "declaration.export", "declaration.amend", "declaration.decide",
        "access.breakglass", "account.create", "account.role_change", "account.disable",
        "key.operation", "risk.override",
    }
)  # fmt: skip
OUTCOMES: Final = frozenset({"success", "failure", "denied"})

# audit action -> activity action. The login is two steps: the password (auth.password) is the
# login, the second factor that completes it (audit's auth.login with its method) is auth.mfa.
AUDIT_TO_ACTIVITY: Final[dict[str, str]] = {
    "auth.password": "auth.login",
    # audit's auth.login: refused (a wrong password, see activity_action) or completed by the second factor
    "auth.login": "auth.mfa",
    "auth.totp": "auth.mfa",
    "auth.recovery": "auth.mfa",
    "auth.webauthn": "auth.mfa",
    "auth.step-up": "auth.mfa",
    "auth.refresh": "auth.refresh",
    "auth.refresh-reuse": "auth.refresh",
    "declaration.lodge": "declaration.lodge",
    "declaration.read": "declaration.read",
    "declaration.list": "declaration.list",
    "declaration.export": "declaration.export",
    "declaration.amend": "declaration.amend",
    "declaration.decision.release": "declaration.decide",
    "declaration.decision.hold": "declaration.decide",
    "declaration.decision.reject": "declaration.decide",
    "declaration.invalidate": "declaration.decide",
    "declaration.break-glass": "access.breakglass",
    "account.create": "account.create",
    "account.set-role": "account.role_change",
    # Re-enabling an account or resetting its second factor changes what can be done with it.
    "account.enable": "account.role_change",
    "account.reset-mfa": "account.role_change",
    "account.disable": "account.disable",
    "account.lock": "account.disable",
    "keys.rotate": "key.operation",
    "keys.shred": "key.operation",
    "keys.init": "key.operation",
    "backup.restore.accept_loss": "key.operation",
    "risk.override": "risk.override",
    # A declaration sent to a partner administration leaves the house: an export of one record.
    "sharing.sent": "declaration.export",
    # A received package shown, and a pseudonym turned back into the identity behind it: reads.
    "sharing.read": "declaration.read",
    "sharing.reidentify": "declaration.read",
    # A control outcome an officer records (portal or CLI) feeds the risk model: a decision on a record.
    "risk.outcome": "declaration.decide",
}

# Audit actions that are not staff activity in the vocabulary, and why.
NOT_ACTIVITY: Final[dict[str, str]] = {
    "auth.logout": "ends a session; carries no risk",
    "account.revoke-sessions": "a response of detection itself",
    "account.require-step-up": "a response of detection itself",
    "retention.hold.add": "the DPO's legal holds: no data read",
    "retention.hold.release": "the DPO's legal holds: no data read",
    "retention.run": "a scheduled disposal run",
    "privacy.subject-access": "the DPO's subject access reports",
    "privacy.request.add": "the DPO's request register",
    "privacy.request.list": "the DPO's request register",
    "privacy.request.answer": "the DPO's request register",
    "traveller.record": "traveller records are not declarations (no vocabulary in issue 16)",
    "training.record": "the staff training register: no declaration data read or changed",
    "traveller.read": "traveller records are not declarations (no vocabulary in issue 16)",
    "traveller.disposed": "a scheduled disposal",
    "detection.triage": "security staff's own verdicts",
    "sharing.partner.add": "the DPO's partner register: no data read",
    "sharing.agreement.create": "the DPO's agreements register: no data read",
    "sharing.agreement.accept": "the DPO's agreements register: no data read",
    "sharing.agreement.countersigned": "the DPO's agreements register: no data read",
    "sharing.agreement.revoke": "the DPO's agreements register: no data read",
    "sharing.received": "a partner administration's delivery, by machine (in the ledger)",
    "sharing.refused": "a partner administration's delivery, by machine (in the ledger)",
    "sharing.dispose": "a scheduled disposal",
    "ledger.witness.alert": "the ledger's own witnessing (an alert of its own)",
    "ledger.witness.submit": "the ledger's own witnessing",
    "audit.search": "the auditor's search of the audit trail (itself audited); no declaration data read",
    "ledger.verify": "a verification of the ledger's public log",
    # A draft's lodging is audited as declaration.lodge too, which is activity.
    "draft.save": "a trader's or broker's own unlodged draft",
    "draft.delete": "a trader's or broker's own unlodged draft",
    "draft.lodged": "the draft's end; its lodging is declaration.lodge",
}

_AUDIT_OUTCOME: Final = {"ok": "success", "denied": "denied", "failed": "failure", "error": "failure"}


@dataclass(frozen=True, slots=True)
class Activity:
    """One activity event as stored: `record` and `party` already as keyed references."""

    at: datetime
    actor: str
    role: str
    office: str | None
    action: str
    outcome: str
    source_ip: str | None
    user_agent: str | None
    record: str | None
    party: str | None
    count: int
    audit_event: str | None


def activity_action(audit_action: str, audit_outcome: str = "ok") -> str | None:
    if audit_action == "auth.login" and audit_outcome != "ok":
        return "auth.login"  # the password step refused: no second factor was reached
    return AUDIT_TO_ACTIVITY.get(audit_action)


def activity_outcome(audit_action: str, audit_outcome: str) -> str:
    """A refused password or second factor is a failure (the caller got it wrong); a refused
    refresh token (replayed) is denied."""
    if audit_outcome == "denied" and audit_action.startswith("auth.") and audit_action != "auth.refresh-reuse":
        return "failure"
    return _AUDIT_OUTCOME.get(audit_outcome, "failure")


def activity_actor(actor: str, details: dict[str, Any] | None) -> str:
    """A failed password on an unknown name is recorded by audit as `anonymous` with the name tried:
    detection counts attempts per name tried (brute force on one account, spraying)."""
    if actor == "anonymous" and details and isinstance(details.get("username"), str):
        return str(details["username"])[:64]
    return actor


def activity_count(audit_action: str, details: dict[str, Any] | None) -> int:
    """What a list or export returned; 1 otherwise."""
    if details:
        for key in ("returned", "count"):
            value = details.get(key)
            if type(value) is int and value >= 0:
                return value
    return 1


def account_of_role_change(details: dict[str, Any] | None) -> str | None:
    return str(details["role"]) if details and isinstance(details.get("role"), str) else None
