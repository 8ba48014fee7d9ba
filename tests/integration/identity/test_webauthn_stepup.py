from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from clearguard.access.principal import Principal
from clearguard.identity import totp
from clearguard.identity.errors import InvalidMfa, MfaStateError
from tests.integration.identity.identity_env import PASSWORD, Env
from tests.integration.identity.softkey import SoftAuthenticator


def session_with_totp(env: Env) -> tuple[Principal, str]:
    step = env.service.login("alice", PASSWORD, source="10.0.0.1")
    secret = env.service.totp_enroll(step.mfa_token, source="10.0.0.1").secret
    pair = env.service.totp_confirm(step.mfa_token, totp.code_at(secret, env.clock.now()), source="10.0.0.1")
    return env.service.authenticate(pair.tokens.access_token), secret


def register(env: Env, principal: Principal) -> SoftAuthenticator:
    key = SoftAuthenticator()
    options = env.service.webauthn_register_options(principal)
    assert options["rp"]["id"] == "localhost" and options["attestation"] == "none"
    env.service.webauthn_register(principal, key.register(options), name="laptop")
    return key


def test_passkey_registration_and_login(env: Env) -> None:
    env.add_user()
    principal, _ = session_with_totp(env)
    key = register(env, principal)
    step = env.service.login("alice", PASSWORD, source="10.0.0.1")
    assert "webauthn" in step.methods
    options = env.service.webauthn_login_options(step.mfa_token)
    pair = env.service.webauthn_login(step.mfa_token, key.assert_(options), source="10.0.0.1")
    assert env.service.authenticate(pair.access_token).username == "alice"


@pytest.mark.asvs("V6.3.3")
def test_passkey_refuses_wrong_origin_tampering_and_foreign_keys(env: Env) -> None:
    env.add_user()
    principal, _ = session_with_totp(env)
    key = register(env, principal)
    bad_assertions: list[Callable[[dict[str, Any]], dict[str, Any]]] = [
        lambda o: key.assert_(o, origin="https://evil.example"),
        lambda o: key.assert_(o, tamper=True),
        lambda o: SoftAuthenticator().assert_(o),
    ]
    for bad in bad_assertions:
        step = env.service.login("alice", PASSWORD, source="10.0.0.1")
        options = env.service.webauthn_login_options(step.mfa_token)
        with pytest.raises(InvalidMfa):
            env.service.webauthn_login(step.mfa_token, bad(options), source="10.0.0.1")
        env.clock.advance(60)


@pytest.mark.asvs("V6.5.1")
def test_passkey_challenge_is_single_use(env: Env) -> None:
    env.add_user()
    principal, _ = session_with_totp(env)
    key = register(env, principal)
    step = env.service.login("alice", PASSWORD, source="10.0.0.1")
    options = env.service.webauthn_login_options(step.mfa_token)
    assertion = key.assert_(options)
    env.service.webauthn_login(step.mfa_token, assertion, source="10.0.0.1")
    step = env.service.login("alice", PASSWORD, source="10.0.0.1")
    env.service.webauthn_login_options(step.mfa_token)
    with pytest.raises(InvalidMfa):
        env.service.webauthn_login(step.mfa_token, assertion, source="10.0.0.1")


def test_registration_refuses_a_response_to_another_challenge(env: Env) -> None:
    env.add_user()
    principal, _ = session_with_totp(env)
    key = SoftAuthenticator()
    stale = env.service.webauthn_register_options(principal)
    env.service.webauthn_register_options(principal)
    with pytest.raises(InvalidMfa):
        env.service.webauthn_register(principal, key.register(stale), name="x")


def test_webauthn_options_without_passkey(env: Env) -> None:
    env.add_user()
    session_with_totp(env)
    step = env.service.login("alice", PASSWORD, source="10.0.0.1")
    with pytest.raises(MfaStateError):
        env.service.webauthn_login_options(step.mfa_token)


def test_step_up_refreshes_the_mfa_time(env: Env) -> None:
    from clearguard.access.errors import StepUpRequired
    from clearguard.access.policy import require_recent_mfa

    env.add_user()
    principal, secret = session_with_totp(env)
    require_recent_mfa(principal, env.clock.now(), window_seconds=300)
    env.clock.advance(301)
    principal = env.service.reload(principal)
    with pytest.raises(StepUpRequired):
        require_recent_mfa(principal, env.clock.now(), window_seconds=300)
    with pytest.raises(InvalidMfa):
        env.service.step_up_totp(
            principal,
            "000000" if totp.code_at(secret, env.clock.now()) != "000000" else "111111",
            source="10.0.0.1",
        )
    env.service.step_up_totp(principal, totp.code_at(secret, env.clock.now()), source="10.0.0.1")
    principal = env.service.reload(principal)
    require_recent_mfa(principal, env.clock.now(), window_seconds=300)


def test_step_up_with_passkey(env: Env) -> None:
    from clearguard.access.policy import require_recent_mfa

    env.add_user()
    principal, _ = session_with_totp(env)
    key = register(env, principal)
    env.clock.advance(600)
    principal = env.service.reload(principal)
    options = env.service.step_up_webauthn_options(principal)
    env.service.step_up_webauthn(principal, key.assert_(options), source="10.0.0.1")
    require_recent_mfa(env.service.reload(principal), env.clock.now(), window_seconds=300)


def test_passkey_as_first_factor(env: Env) -> None:
    env.add_user()
    key = SoftAuthenticator()
    step = env.service.login("alice", PASSWORD, source="10.0.0.1")
    assert step.enrolment_required
    bad = SoftAuthenticator().register(env.service.webauthn_enroll_options(step.mfa_token))
    bad["response"]["clientDataJSON"] = bad["response"]["clientDataJSON"][:-4] + "AAAA"
    with pytest.raises(InvalidMfa):
        env.service.webauthn_enroll(step.mfa_token, bad, name="x", source="10.0.0.1")
    options = env.service.webauthn_enroll_options(step.mfa_token)
    confirmed = env.service.webauthn_enroll(step.mfa_token, key.register(options), name="yubi", source="10.0.0.1")
    assert len(confirmed.recovery_codes) == 10
    assert env.service.authenticate(confirmed.tokens.access_token).username == "alice"
    step = env.service.login("alice", PASSWORD, source="10.0.0.1")
    assert not step.enrolment_required and step.methods[0] == "webauthn"
    with pytest.raises(MfaStateError):
        env.service.webauthn_enroll_options(step.mfa_token)
    with pytest.raises(MfaStateError):
        env.service.totp_enroll(step.mfa_token, source="10.0.0.1")
    pair = env.service.webauthn_login(
        step.mfa_token, key.assert_(env.service.webauthn_login_options(step.mfa_token)), source="10.0.0.1"
    )
    assert env.service.authenticate(pair.access_token).username == "alice"
