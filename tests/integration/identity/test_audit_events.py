from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from clearguard.audit.service import AuditQuery, AuditService
from clearguard.identity import totp
from clearguard.identity.clock import FrozenClock
from clearguard.identity.errors import InvalidCredentials, InvalidToken
from clearguard.identity.service import IdentityService
from clearguard.identity.throttle import DatabaseThrottle
from tests.helpers import secret_box
from tests.integration.identity.identity_env import PASSWORD, Env, fast_settings


@pytest.mark.asvs("V16.3.1")
def test_authentication_events_reach_the_audit_trail(session_factory: sessionmaker[Session]) -> None:
    clock = FrozenClock()
    audit = AuditService()
    service = IdentityService(
        session_factory,
        fast_settings(),
        secret_box=secret_box(),
        clock=clock,
        throttle=DatabaseThrottle(session_factory, clock),
        events=audit,
    )
    env = Env(service=service, clock=clock, factory=session_factory)
    env.add_user()
    with pytest.raises(InvalidCredentials):
        service.login("alice", "wrong-password-guess", source="10.0.0.5")
    step = service.login("alice", PASSWORD, source="10.0.0.5")
    secret = service.totp_enroll(step.mfa_token, source="10.0.0.5").secret
    pair = service.totp_confirm(step.mfa_token, totp.code_at(secret, clock.now()), source="10.0.0.5").tokens
    service.refresh(pair.refresh_token, source="10.0.0.5")
    with pytest.raises(InvalidToken):
        service.refresh(pair.refresh_token, source="10.0.0.6")
    with session_factory() as session:
        events = audit.query(session, AuditQuery())
    seen = [(e.action, e.outcome, e.actor) for e in events]
    assert ("auth.login", "denied", "anonymous") in seen
    assert ("auth.password", "ok", "alice") in seen
    assert ("auth.login", "ok", "alice") in seen
    assert ("auth.refresh-reuse", "denied", "alice") in seen
    assert all(e.source and e.source.startswith("10.0.0.") for e in events)
