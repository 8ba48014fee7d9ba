"""A portal session is an identity session: idle timeout by the access token's server-side expiry,
renewal on activity, and revocation (sign-out, detection's revoke_sessions) end it."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from clearguard.db import transaction
from clearguard.identity import InvalidToken, accounts, totp
from clearguard.identity.clock import FrozenClock
from clearguard.identity.service import IdentityService
from clearguard.identity.throttle import DatabaseThrottle
from clearguard.portal.session import PortalSessions, Tokens
from tests.helpers import secret_box
from tests.integration.api.api_env import PASSWORD, api_settings


def _signed_in(factory: sessionmaker[Session]) -> tuple[IdentityService, FrozenClock, Tokens]:
    clock = FrozenClock()
    identity = IdentityService(
        factory, api_settings(), secret_box=secret_box(), clock=clock, throttle=DatabaseThrottle(factory, clock)
    )
    with transaction(factory) as session:
        accounts.create_account(
            session,
            identity.passwords,
            username="tara",
            role="trader",
            password=PASSWORD,
            now=clock.now(),
            party_eori="GB123456789000",
        )
    step = identity.login("tara", PASSWORD, source="test")
    enrolment = identity.totp_enroll(step.mfa_token, source="test")
    pair = identity.totp_confirm(step.mfa_token, totp.code_at(enrolment.secret, clock.now()), source="test").tokens
    return identity, clock, Tokens(pair.access_token, pair.refresh_token, int(clock.now().timestamp()))


def test_activity_renews_the_session_and_idleness_ends_it(session_factory: sessionmaker[Session]) -> None:
    identity, clock, tokens = _signed_in(session_factory)
    sessions = PortalSessions(identity, renew_after_s=60)
    principal, renewed = sessions.resolve(tokens.encode(), source="test")
    assert principal.username == "tara" and renewed is None
    clock.advance(600)  # active after ten minutes: the pair is renewed
    _, renewed = sessions.resolve(tokens.encode(), source="test")
    assert renewed is not None and renewed.access != tokens.access
    # The same cookie again (a second request of the same page) reuses that renewal instead of
    # presenting the rotated refresh token, which would revoke the session as stolen.
    _, again = sessions.resolve(tokens.encode(), source="test")
    assert again == renewed
    clock.advance(14 * 60)
    assert sessions.resolve(renewed.encode(), source="test")[0].username == "tara"
    clock.advance(61)  # more than 15 minutes since the last renewal: idle, over
    with pytest.raises(InvalidToken):
        sessions.resolve(renewed.encode(), source="test")


def test_revoking_the_identity_sessions_ends_the_portal_session(session_factory: sessionmaker[Session]) -> None:
    identity, _clock, tokens = _signed_in(session_factory)
    sessions = PortalSessions(identity)
    sessions.resolve(tokens.encode(), source="test")
    assert identity.revoke_sessions("tara", by="detection", reason="confirmed alert") >= 1
    with pytest.raises(InvalidToken):
        sessions.resolve(tokens.encode(), source="test")


def test_no_or_a_forged_cookie_is_no_session(session_factory: sessionmaker[Session]) -> None:
    identity, _clock, tokens = _signed_in(session_factory)
    sessions = PortalSessions(identity)
    for cookie in (None, "", "garbage", Tokens("cga_forged", tokens.refresh, tokens.issued).encode()):
        with pytest.raises(InvalidToken):
            sessions.resolve(cookie, source="test")
