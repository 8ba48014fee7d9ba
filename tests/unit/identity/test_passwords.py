from __future__ import annotations

import argon2
import pytest

from clearguard.config import Settings
from clearguard.identity.errors import WeakPassword
from clearguard.identity.passwords import Argon2Params, PasswordService, check_password
from clearguard.identity.service import passwords_from

FAST = Argon2Params(time_cost=1, memory_cost_kib=8192)


@pytest.mark.parametrize(
    "password",
    ["short", "elevenchars", "x" * 129, "password1234", "qwertyuiop123", "aaaaaaaaaaaaaaaa"],
)
@pytest.mark.asvs("V6.2.1", "V6.2.4")
def test_refused(password: str) -> None:
    with pytest.raises(WeakPassword):
        check_password(password)


@pytest.mark.parametrize(
    ("password", "inputs"), [("ClearGuard2026!", ["clearguard"]), ("GB123456789000ab", ["GB123456789000"])]
)
@pytest.mark.asvs("V6.2.11")
def test_user_inputs_make_a_password_guessable(password: str, inputs: list[str]) -> None:
    check_password(password)
    with pytest.raises(WeakPassword):
        check_password(password, user_inputs=inputs)


@pytest.mark.parametrize(
    "password",
    [
        "plum-orbit-velvet-cascade-41",
        "correct horse battery staple",
        "Ünïcödé pässwörd with spaces ✓",
        "Tq8#vL2!mZ9x",
    ],
)
@pytest.mark.asvs("V6.2.5")
def test_accepted_without_composition_rules(password: str) -> None:
    check_password(password)


@pytest.mark.asvs("V6.2.9")
def test_max_length_is_128() -> None:
    check_password("plum-orbit-velvet " * 7 + "x" * 2)  # 128 characters


@pytest.mark.asvs("V11.4.2")
def test_hash_verify_and_nfkc() -> None:
    service = PasswordService(FAST)
    stored = service.hash("ﬁsh-and-chips-on-friday")  # "ﬁ" ligature, NFKC -> "fi"
    assert stored.startswith("$argon2id$")
    assert service.verify(stored, "fish-and-chips-on-friday")
    assert not service.verify(stored, "fish-and-chips-on-monday")
    assert not service.verify(None, "anything-at-all")
    assert not service.verify("not-a-hash", "anything")


def test_rehash_needed_when_parameters_change() -> None:
    old = PasswordService(FAST).hash("plum-orbit-velvet-cascade-41")
    assert not PasswordService(FAST).needs_rehash(old)
    assert PasswordService(Argon2Params(time_cost=2, memory_cost_kib=8192)).needs_rehash(old)


def test_hashing_concurrency_is_bounded() -> None:
    import threading

    from clearguard.identity.errors import Busy

    service = PasswordService(FAST, concurrency=1, wait_seconds=0.05)
    service._slots.acquire()  # one hash "in flight"
    try:
        with pytest.raises(Busy):
            service.hash("plum-orbit-velvet-cascade-41")
    finally:
        service._slots.release()
    assert isinstance(service._slots, type(threading.BoundedSemaphore()))
    service.hash("plum-orbit-velvet-cascade-41")


@pytest.mark.asvs("V11.4.2")
def test_default_parameters_and_unknown_user_costs_the_same() -> None:
    """Equal work, not equal seconds (a timed test flakes on a shared machine): the production
    parameters meet OWASP's Argon2id floor, and an unknown user is verified against a dummy hash made
    with exactly those parameters, so both paths run one full Argon2id verification."""
    service = passwords_from(Settings(env="test"))
    assert service.params.memory_cost_kib >= 19 * 1024 and service.params.time_cost >= 2
    stored = service.hash("plum-orbit-velvet-cascade-41")
    calls: list[argon2.Parameters] = []

    class Counting(argon2.PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            calls.append(argon2.extract_parameters(hash if isinstance(hash, str) else hash.decode()))
            return super().verify(hash, password)

    p = service.params
    service._hasher = Counting(time_cost=p.time_cost, memory_cost=p.memory_cost_kib, parallelism=p.parallelism)
    assert service.verify(stored, "wrong-password-guess-1") is False
    assert service.verify(None, "wrong-password-guess-1") is False
    assert service.verify(None, "clearguard-dummy-password-for-timing-equality") is False  # never a match
    assert len(calls) == 3 and calls[0] == calls[1] == calls[2] == argon2.extract_parameters(stored)
