from __future__ import annotations

import pytest
from sqlalchemy import select

from clearguard.db import transaction
from clearguard.identity import accounts, totp
from clearguard.identity.errors import InvalidToken
from clearguard.identity.sessions import TokenPair
from clearguard.identity.tables import AccessToken, RefreshToken
from clearguard.identity.tokens import digest
from tests.integration.identity.identity_env import PASSWORD, Env


def logged_in(env: Env, username: str = "alice") -> tuple[TokenPair, str]:
    step = env.service.login(username, PASSWORD, source="10.0.0.1")
    secret = env.service.totp_enroll(step.mfa_token, source="10.0.0.1").secret
    confirmed = env.service.totp_confirm(step.mfa_token, totp.code_at(secret, env.clock.now()), source="10.0.0.1")
    return confirmed.tokens, secret


@pytest.mark.asvs("V7.3.1")
def test_access_token_expires_after_15_minutes(env: Env) -> None:
    env.add_user()
    pair, _ = logged_in(env)
    env.clock.advance(899)
    env.service.authenticate(pair.access_token)
    env.clock.advance(1)
    with pytest.raises(InvalidToken):
        env.service.authenticate(pair.access_token)


def test_tokens_are_stored_only_as_digests(env: Env) -> None:
    env.add_user()
    pair, _ = logged_in(env)
    with env.factory() as session:
        access = set(session.scalars(select(AccessToken.token_hash)))
        refresh = set(session.scalars(select(RefreshToken.token_hash)))
    assert access == {digest(pair.access_token)} and refresh == {digest(pair.refresh_token)}


@pytest.mark.asvs("V7.2.4")
def test_refresh_rotates_and_keeps_the_mfa_time(env: Env) -> None:
    env.add_user()
    pair, _ = logged_in(env)
    mfa_at = env.service.authenticate(pair.access_token).mfa_at
    env.clock.advance(600)
    new = env.service.refresh(pair.refresh_token, source="10.0.0.1")
    assert new.refresh_token != pair.refresh_token and new.access_token != pair.access_token
    principal = env.service.authenticate(new.access_token)
    # A refresh is not a second factor: the step-up clock keeps running from the login.
    assert principal.mfa_at == mfa_at


def test_refresh_reuse_revokes_the_whole_family(env: Env) -> None:
    env.add_user()
    pair, _ = logged_in(env)
    second = env.service.refresh(pair.refresh_token, source="10.0.0.1")
    third = env.service.refresh(second.refresh_token, source="10.0.0.1")
    with pytest.raises(InvalidToken, match="reused"):
        env.service.refresh(pair.refresh_token, source="10.0.0.1")
    with pytest.raises(InvalidToken):
        env.service.authenticate(third.access_token)
    with pytest.raises(InvalidToken):
        env.service.refresh(third.refresh_token, source="10.0.0.1")


def test_reuse_in_one_family_leaves_other_sessions_alone(env: Env) -> None:
    env.add_user()
    pair, secret = logged_in(env)
    env.clock.advance(30)
    step = env.service.login("alice", PASSWORD, source="10.0.0.2")
    other = env.service.totp_login(step.mfa_token, totp.code_at(secret, env.clock.now()), source="10.0.0.2")
    env.service.refresh(pair.refresh_token, source="10.0.0.1")
    with pytest.raises(InvalidToken):
        env.service.refresh(pair.refresh_token, source="10.0.0.1")
    assert env.service.authenticate(other.access_token).username == "alice"


@pytest.mark.asvs("V7.3.2")
def test_refresh_token_expires(env: Env) -> None:
    env.add_user()
    pair, _ = logged_in(env)
    env.clock.advance(8 * 3600 + 1)
    with pytest.raises(InvalidToken):
        env.service.refresh(pair.refresh_token, source="10.0.0.1")


@pytest.mark.asvs("V7.4.1")
def test_logout_revokes_session_tokens(env: Env) -> None:
    env.add_user()
    pair, _ = logged_in(env)
    principal = env.service.authenticate(pair.access_token)
    env.service.logout(principal, source="10.0.0.1")
    with pytest.raises(InvalidToken):
        env.service.authenticate(pair.access_token)
    with pytest.raises(InvalidToken):
        env.service.refresh(pair.refresh_token, source="10.0.0.1")


@pytest.mark.asvs("V7.4.2")
def test_logout_everywhere_and_disable_revoke_all_sessions(env: Env) -> None:
    env.add_user()
    first, secret = logged_in(env)
    env.clock.advance(30)
    step = env.service.login("alice", PASSWORD, source="10.0.0.2")
    second = env.service.totp_login(step.mfa_token, totp.code_at(secret, env.clock.now()), source="10.0.0.2")
    env.service.logout(env.service.authenticate(first.access_token), everywhere=True, source="10.0.0.1")
    for pair in (first, second):
        with pytest.raises(InvalidToken):
            env.service.authenticate(pair.access_token)
    env.clock.advance(30)
    step = env.service.login("alice", PASSWORD, source="10.0.0.2")
    third = env.service.totp_login(step.mfa_token, totp.code_at(secret, env.clock.now()), source="10.0.0.2")
    with transaction(env.factory) as session:
        accounts.disable_account(session, "alice", now=env.clock.now())
    with pytest.raises(InvalidToken):
        env.service.authenticate(third.access_token)
    with pytest.raises(InvalidToken):
        env.service.refresh(third.refresh_token, source="10.0.0.2")


def test_broker_principal_carries_current_mandates(env: Env) -> None:
    from datetime import date

    from clearguard.access.mandates import grant_mandate

    broker_id = env.add_user("bob", role="broker")
    with transaction(env.factory) as session:
        grant_mandate(
            session,
            broker_id=broker_id,
            trader_eori="GB123456789000",
            valid_until=date(2026, 1, 31),
            now=env.clock.now(),
            granted_by="admin",
        )
        grant_mandate(
            session,
            broker_id=broker_id,
            trader_eori="GB555",
            valid_until=date(2026, 1, 14),
            now=env.clock.now(),
            granted_by="admin",
            valid_from=date(2026, 1, 1),
        )
    pair, _ = logged_in(env, "bob")
    principal = env.service.authenticate(pair.access_token)
    assert principal.mandated_parties(env.clock.now().date()) == {"GB123456789000"}


@pytest.mark.asvs("V7.2.1")
def test_request_path_lookup_reads_exactly_what_a_session_reads(env: Env) -> None:
    """The bearer check on the request path skips the Session (PrincipalLookup); it must give the
    same principal, mandates and refusals as `principal_for` through a session, on both databases."""
    from datetime import date

    from clearguard.access.mandates import grant_mandate, revoke_mandates
    from clearguard.identity.sessions import PrincipalLookup, principal_for

    lookup = PrincipalLookup.of(env.factory)
    assert lookup is not None
    broker_id = env.add_user("bob", role="broker")
    with transaction(env.factory) as session:
        for eori, until in (("GB123456789000", date(2026, 1, 31)), ("GB555", date(2026, 1, 20))):
            grant_mandate(
                session,
                broker_id=broker_id,
                trader_eori=eori,
                valid_until=until,
                now=env.clock.now(),
                granted_by="admin",
                valid_from=date(2026, 1, 1),
            )
    pair, _ = logged_in(env, "bob")
    now = env.clock.now()
    with env.factory() as session:
        expected = principal_for(session, pair.access_token, now=now)
    got = lookup.principal(pair.access_token, now=now)
    assert got == expected and len(got.mandates) == 2
    assert got.mfa_at is not None and got.mfa_at.tzinfo is not None
    with transaction(env.factory) as session:
        revoke_mandates(session, broker_id=broker_id, trader_eori="GB555", now=now)
    assert lookup.principal(pair.access_token, now=now).mandated_parties(now.date()) == {"GB123456789000"}
    with pytest.raises(InvalidToken):
        lookup.principal(pair.access_token + "x", now=now)
    env.service.logout(got, source="10.0.0.1")
    with pytest.raises(InvalidToken):
        lookup.principal(pair.access_token, now=now)
