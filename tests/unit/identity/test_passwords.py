from __future__ import annotations

import time

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
def test_refused(password: str) -> None:
    with pytest.raises(WeakPassword):
        check_password(password)


@pytest.mark.parametrize(
    ("password", "inputs"), [("ClearGuard2026!", ["clearguard"]), ("GB123456789000ab", ["GB123456789000"])]
)
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
def test_accepted_without_composition_rules(password: str) -> None:
    check_password(password)


def test_max_length_is_128() -> None:
    check_password("plum-orbit-velvet " * 7 + "x" * 2)  # 128 characters


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


@pytest.mark.slow
def test_default_parameters_cost_50_to_250_ms_and_unknown_user_costs_the_same() -> None:
    service = passwords_from(Settings(env="test"))
    stored = service.hash("plum-orbit-velvet-cascade-41")
    known: list[float] = []
    unknown: list[float] = []
    # Interleaved, minimum of several: the 2 shared cores make single samples noisy.
    for _ in range(7):
        for samples, stored_hash in ((known, stored), (unknown, None)):
            start = time.perf_counter()
            service.verify(stored_hash, "wrong-password-guess-1")
            samples.append(time.perf_counter() - start)
    k, u = min(known), min(unknown)
    print(f"argon2id {service.params}: known {k * 1000:.0f} ms, unknown {u * 1000:.0f} ms")
    assert 0.05 <= k <= 0.25
    assert abs(k - u) / k < 0.2
