"""TOTP seeds are stored sealed: the database never holds one in clear, a seed moved to another
account does not open, and seeds stored in clear by an earlier release still work and get sealed."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from clearguard.crypto.errors import DecryptionFailed
from clearguard.db import transaction
from clearguard.identity import totp
from clearguard.identity.tables import Account
from tests.integration.identity.identity_env import PASSWORD, Env
from tests.integration.identity.test_login_totp import enrol


def stored_seed(env: Env, username: str) -> str | None:
    with env.factory() as session:
        return session.scalars(select(Account.totp_secret).where(Account.username == username)).one()


def login(env: Env, username: str, seed: str) -> str:
    env.clock.advance(30)
    step = env.service.login(username, PASSWORD, source="10.0.0.1")
    pair = env.service.totp_login(step.mfa_token, totp.code_at(seed, env.clock.now()), source="10.0.0.1")
    return env.service.authenticate(pair.access_token).username


def test_the_database_holds_the_seed_only_sealed(env: Env) -> None:
    env.add_user()
    seed, _codes = enrol(env)
    stored = stored_seed(env, "alice")
    assert stored is not None and stored.startswith("v1.") and seed not in stored
    assert login(env, "alice", seed) == "alice"


def test_a_seed_copied_onto_another_account_does_not_open(env: Env) -> None:
    env.add_user("alice")
    env.add_user("mallory")
    seed, _ = enrol(env, "alice")
    enrol(env, "mallory")
    with transaction(env.factory) as session:
        alices = stored_seed(env, "alice")
        session.execute(update(Account).where(Account.username == "mallory").values(totp_secret=alices))
    env.clock.advance(30)
    step = env.service.login("mallory", PASSWORD, source="10.0.0.2")
    with pytest.raises(DecryptionFailed):
        env.service.totp_login(step.mfa_token, totp.code_at(seed, env.clock.now()), source="10.0.0.2")


def test_a_seed_stored_in_clear_by_an_earlier_release_still_works_and_is_sealed_on_use(env: Env) -> None:
    env.add_user()
    seed = totp.new_secret()
    with transaction(env.factory) as session:
        session.execute(
            update(Account).where(Account.username == "alice").values(totp_secret=seed, totp_confirmed=True)
        )
    assert login(env, "alice", seed) == "alice"
    stored = stored_seed(env, "alice")
    assert stored is not None and stored.startswith("v1.") and seed not in stored
    assert login(env, "alice", seed) == "alice"
