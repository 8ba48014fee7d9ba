"""Audit events as activity (pure): every action the issue names is reachable, and the outcomes and
actors are as detection reads them."""

from __future__ import annotations

import pytest

from clearguard.detection.activity import (
    ACTIONS,
    AUDIT_TO_ACTIVITY,
    NOT_ACTIVITY,
    activity_action,
    activity_actor,
    activity_count,
    activity_outcome,
)
from clearguard.detection.errors import DetectionInputError
from clearguard.detection.events import ACTIONS as FILE_ACTIONS
from clearguard.detection.responses import ResponsePolicy


def test_the_vocabularies_agree() -> None:
    assert ACTIONS == FILE_ACTIONS  # the store writes what the event file format reads
    assert set(AUDIT_TO_ACTIVITY.values()) <= ACTIONS
    assert not set(AUDIT_TO_ACTIVITY) & set(NOT_ACTIVITY)
    # export is not audited yet (no export route): every other action has a source
    assert ACTIONS - set(AUDIT_TO_ACTIVITY.values()) == set()


def test_login_steps() -> None:
    assert activity_action("auth.password", "ok") == "auth.login"
    assert activity_action("auth.login", "denied") == "auth.login"  # the password refused
    assert activity_action("auth.login", "ok") == "auth.mfa"  # completed by the second factor
    assert activity_outcome("auth.login", "denied") == "failure"
    assert activity_outcome("auth.totp", "denied") == "failure"
    assert activity_outcome("auth.refresh-reuse", "denied") == "denied"
    assert activity_outcome("declaration.read", "ok") == "success"
    assert activity_action("auth.logout", "ok") is None


def test_actor_and_count() -> None:
    assert activity_actor("anonymous", {"username": "victim"}) == "victim"
    assert activity_actor("anonymous", None) == "anonymous"
    assert activity_actor("olga", {"username": "other"}) == "olga"
    assert activity_count("declaration.list", {"returned": 37}) == 37
    assert activity_count("declaration.list", {"returned": True}) == 1  # a bool is no count
    assert activity_count("declaration.read", None) == 1


def test_response_policy() -> None:
    policy = ResponsePolicy()
    assert policy.on_raise("alert", "high") == ("require_step_up",)
    assert policy.on_raise("alert", "medium") == ()
    assert policy.on_raise("notice", "critical") == ()
    assert policy.on_verdict("alert", "confirmed", []) == ("revoke_sessions", "lock")
    assert policy.on_verdict("alert", "confirmed", ["revoke_sessions"]) == ("lock",)
    assert policy.on_verdict("alert", "false_positive", []) == ()
    assert policy.on_verdict("notice", "confirmed", []) == ()
    with pytest.raises(DetectionInputError) as raised:
        ResponsePolicy(on_confirmed=("lock", "wipe"))
    assert raised.value.field == "detection_response_confirmed"
