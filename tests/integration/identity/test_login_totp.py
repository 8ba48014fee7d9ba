from __future__ import annotations

from datetime import timedelta

import pytest

from clearguard.db import transaction
from clearguard.identity import accounts, totp
from clearguard.identity.errors import InvalidCredentials, InvalidMfa, InvalidToken, MfaStateError
from tests.helpers import secret_box
from tests.integration.identity.identity_env import PASSWORD, Env


def enrol(env: Env, username: str = "alice") -> tuple[str, list[str]]:
    step = env.service.login(username, PASSWORD, source="10.0.0.1")
    assert step.enrolment_required
    enrolment = env.service.totp_enroll(step.mfa_token, source="10.0.0.1")
    assert enrolment.otpauth_uri.startswith("otpauth://totp/ClearGuard:" + username)
    assert enrolment.qr_svg.startswith("<svg")
    confirmed = env.service.totp_confirm(
        step.mfa_token, totp.code_at(enrolment.secret, env.clock.now()), source="10.0.0.1"
    )
    return enrolment.secret, confirmed.recovery_codes


@pytest.mark.asvs("V6.3.3")
def test_enrol_then_login_with_totp(env: Env) -> None:
    env.add_user()
    secret, codes = enrol(env)
    assert len(codes) == 10 and len(set(codes)) == 10
    env.clock.advance(30)
    step = env.service.login("Alice", PASSWORD, source="10.0.0.1")
    assert not step.enrolment_required and "totp" in step.methods
    pair = env.service.totp_login(step.mfa_token, totp.code_at(secret, env.clock.now()), source="10.0.0.1")
    principal = env.service.authenticate(pair.access_token)
    assert principal.username == "alice" and principal.role == "trader"
    assert principal.party_eori == "GB123456789000"
    assert principal.mfa_at == env.clock.now()
    assert pair.expires_in == 900


def test_unknown_user_and_wrong_password_answer_the_same(env: Env) -> None:
    env.add_user()
    with pytest.raises(InvalidCredentials) as wrong:
        env.service.login("alice", "not-the-password-at-all", source="10.0.0.1")
    with pytest.raises(InvalidCredentials) as unknown:
        env.service.login("nobody", "not-the-password-at-all", source="10.0.0.1")
    assert wrong.value.to_problem() == unknown.value.to_problem()


def test_disabled_account_answers_like_wrong_password(env: Env) -> None:
    env.add_user()
    with transaction(env.factory) as session:
        accounts.disable_account(session, "alice", now=env.clock.now())
    with pytest.raises(InvalidCredentials):
        env.service.login("alice", PASSWORD, source="10.0.0.1")


def wrong_code(secret: str, env: Env) -> str:
    valid = {totp.code_at(secret, env.clock.now() + timedelta(seconds=d)) for d in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


@pytest.mark.asvs("V6.5.1")
def test_totp_code_cannot_be_replayed(env: Env) -> None:
    env.add_user()
    secret, _ = enrol(env)
    # The code that confirmed enrolment is spent, in this step and the drift window.
    step = env.service.login("alice", PASSWORD, source="10.0.0.1")
    with pytest.raises(InvalidMfa):
        env.service.totp_login(step.mfa_token, totp.code_at(secret, env.clock.now()), source="10.0.0.1")
    env.clock.advance(30)
    code = totp.code_at(secret, env.clock.now())
    env.service.totp_login(step.mfa_token, code, source="10.0.0.1")
    step2 = env.service.login("alice", PASSWORD, source="10.0.0.1")
    with pytest.raises(InvalidMfa):
        env.service.totp_login(step2.mfa_token, code, source="10.0.0.1")
    # An older code (previous step, still inside the drift window) is refused too.
    with pytest.raises(InvalidMfa):
        env.service.totp_login(
            step2.mfa_token, totp.code_at(secret, env.clock.now() - timedelta(seconds=30)), source="10.0.0.1"
        )


def test_totp_drift_window_is_one_step(env: Env) -> None:
    env.add_user()
    secret, _ = enrol(env)
    env.clock.advance(300)
    step = env.service.login("alice", PASSWORD, source="10.0.0.1")
    with pytest.raises(InvalidMfa):
        env.service.totp_login(
            step.mfa_token, totp.code_at(secret, env.clock.now() + timedelta(seconds=90)), source="10.0.0.1"
        )
    env.service.totp_login(
        step.mfa_token, totp.code_at(secret, env.clock.now() + timedelta(seconds=30)), source="10.0.0.1"
    )


def test_mfa_token_expires_and_is_single_use(env: Env) -> None:
    env.add_user()
    secret, _ = enrol(env)
    env.clock.advance(30)
    step = env.service.login("alice", PASSWORD, source="10.0.0.1")
    env.clock.advance(301)
    with pytest.raises(InvalidToken):
        env.service.totp_login(step.mfa_token, totp.code_at(secret, env.clock.now()), source="10.0.0.1")
    step = env.service.login("alice", PASSWORD, source="10.0.0.1")
    env.service.totp_login(step.mfa_token, totp.code_at(secret, env.clock.now()), source="10.0.0.1")
    env.clock.advance(30)
    with pytest.raises(InvalidToken):
        env.service.totp_login(step.mfa_token, totp.code_at(secret, env.clock.now()), source="10.0.0.1")


@pytest.mark.asvs("V6.3.1")
def test_mfa_token_dies_after_five_wrong_codes(env: Env) -> None:
    env.add_user()
    secret, _ = enrol(env)
    env.clock.advance(30)
    step = env.service.login("alice", PASSWORD, source="10.0.0.1")
    for _ in range(5):
        with pytest.raises(InvalidMfa):
            env.service.totp_login(step.mfa_token, wrong_code(secret, env), source="10.0.0.1")
        env.clock.advance(20)  # past the growing delay
    with pytest.raises(InvalidToken):
        env.service.totp_login(step.mfa_token, totp.code_at(secret, env.clock.now()), source="10.0.0.1")


def test_enrol_refused_when_already_enrolled(env: Env) -> None:
    env.add_user()
    enrol(env)
    step = env.service.login("alice", PASSWORD, source="10.0.0.1")
    with pytest.raises(MfaStateError):
        env.service.totp_enroll(step.mfa_token, source="10.0.0.1")


@pytest.mark.asvs("V6.5.1")
def test_recovery_codes_are_one_time(env: Env) -> None:
    env.add_user()
    _, codes = enrol(env)
    step = env.service.login("alice", PASSWORD, source="10.0.0.1")
    pair = env.service.recovery_login(step.mfa_token, codes[3].lower().replace("-", " "), source="10.0.0.1")
    assert env.service.authenticate(pair.access_token).username == "alice"
    step = env.service.login("alice", PASSWORD, source="10.0.0.1")
    with pytest.raises(InvalidMfa):
        env.service.recovery_login(step.mfa_token, codes[3], source="10.0.0.1")
    env.service.recovery_login(step.mfa_token, codes[4], source="10.0.0.1")


@pytest.mark.asvs("V6.5.2")
def test_recovery_codes_stored_hashed(env: Env) -> None:
    from sqlalchemy import select

    from clearguard.identity.tables import RecoveryCode

    env.add_user()
    _, codes = enrol(env)
    with env.factory() as session:
        stored = set(session.scalars(select(RecoveryCode.code_hash)))
    assert len(stored) == 10 and not stored & set(codes)


def test_reset_mfa_revokes_sessions_and_requires_enrolment(env: Env) -> None:
    env.add_user()
    secret, _ = enrol(env)
    env.clock.advance(30)
    step = env.service.login("alice", PASSWORD, source="10.0.0.1")
    pair = env.service.totp_login(step.mfa_token, totp.code_at(secret, env.clock.now()), source="10.0.0.1")
    with transaction(env.factory) as session:
        accounts.reset_mfa(session, "alice", now=env.clock.now())
    with pytest.raises(InvalidToken):
        env.service.authenticate(pair.access_token)
    with pytest.raises(InvalidToken):
        env.service.refresh(pair.refresh_token, source="10.0.0.1")
    assert env.service.login("alice", PASSWORD, source="10.0.0.1").enrolment_required


def test_unknown_user_costs_the_same_as_a_wrong_password(session_factory: object) -> None:
    """With the production Argon2 parameters, end to end through the service (DB and throttle too):
    a wrong password and an unknown username each run exactly one Argon2id verification with the
    same parameters (equal work; seconds would flake on a shared machine)."""
    import argon2

    from clearguard.config import Settings
    from clearguard.identity.clock import FrozenClock
    from clearguard.identity.service import IdentityService
    from clearguard.identity.throttle import DatabaseThrottle
    from tests.integration.identity.identity_env import Env as _Env

    clock = FrozenClock()
    service = IdentityService(
        session_factory,  # type: ignore[arg-type]
        Settings(env="test"),
        secret_box=secret_box(),
        clock=clock,
        throttle=DatabaseThrottle(session_factory, clock),  # type: ignore[arg-type]
    )
    real = _Env(service=service, clock=clock, factory=session_factory)  # type: ignore[arg-type]
    real.add_user()
    calls: list[tuple[str, argon2.Parameters]] = []
    current = [""]

    class Counting(argon2.PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            calls.append((current[0], argon2.extract_parameters(hash if isinstance(hash, str) else hash.decode())))
            return super().verify(hash, password)

    p = service.passwords.params
    service.passwords._hasher = Counting(
        time_cost=p.time_cost, memory_cost=p.memory_cost_kib, parallelism=p.parallelism
    )
    for name in ("alice", "ghost"):
        current[0] = name
        with pytest.raises(InvalidCredentials):
            service.login(name, "wrong-password-guess", source="10.1.0.1")
        clock.advance(120)  # past any growing delay
    assert [n for n, _ in calls] == ["alice", "ghost"]
    assert calls[0][1] == calls[1][1] and calls[0][1].memory_cost == service.passwords.params.memory_cost_kib


def test_demo_accounts_can_log_in(env: Env) -> None:
    from clearguard.identity.demo import create_demo_accounts

    with transaction(env.factory) as session:
        created = create_demo_accounts(
            session, now=env.clock.now(), passwords=env.service.passwords, totp_secrets=env.service.totp_secrets
        )
    username, _, password, secret = created[0]
    step = env.service.login(username, password, source="10.0.0.1")
    assert not step.enrolment_required
    pair = env.service.totp_login(step.mfa_token, totp.code_at(secret, env.clock.now()), source="10.0.0.1")
    assert env.service.authenticate(pair.access_token).username == username
