"""Passwords per NIST SP 800-63B: length 12..128, no composition rules, guessable ones refused,
Argon2id hashes with rehash-on-login, and bounded hashing concurrency.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from clearguard.identity.errors import Busy, WeakPassword

MIN_LENGTH = 12
MAX_LENGTH = 128
# zxcvbn score 0..4; 3 = "safely unguessable: moderate protection from offline slow-hash scenario".
MIN_SCORE = 3
ZXCVBN_MAX = 72


def normalize(password: str) -> str:
    """SP 800-63B 5.1.1.2: apply NFKC so the same password typed on different keyboards matches."""
    return unicodedata.normalize("NFKC", password)


def check_password(password: str, *, user_inputs: Sequence[str] = ()) -> None:
    """Raise WeakPassword naming the rule broken; length counts Unicode code points."""
    password = normalize(password)
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"password: at least {MIN_LENGTH} characters required", field="password")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"password: at most {MAX_LENGTH} characters allowed", field="password")
    # zxcvbn refuses inputs over 72 characters; a long password is judged by its first 72, which
    # only errs on the side of refusing (a guessable prefix makes the whole guessable enough).
    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=[u for u in user_inputs if u])
    if int(result["score"]) < MIN_SCORE:
        warning = result.get("feedback", {}).get("warning") or "too easy to guess"
        raise WeakPassword(f"password: refused as common or guessable ({warning})", field="password")


@dataclass(frozen=True, slots=True)
class Argon2Params:
    """Argon2id cost. Defaults measured on the 2-core reference box: ~135 ms per hash (see README)."""

    time_cost: int = 2
    memory_cost_kib: int = 65536
    parallelism: int = 1


class PasswordService:
    """Hashes and verifies with Argon2id; at most `concurrency` hashes run at once, so a flood of
    logins queues (then answers 503) instead of exhausting CPU and memory."""

    def __init__(self, params: Argon2Params, *, concurrency: int = 2, wait_seconds: float = 10.0) -> None:
        self.params = params
        self._hasher = PasswordHasher(
            time_cost=params.time_cost, memory_cost=params.memory_cost_kib, parallelism=params.parallelism
        )
        self._slots = threading.BoundedSemaphore(concurrency)
        self._wait = wait_seconds
        # Verified against when the username is unknown, so that case costs one full verification too.
        self._dummy_hash = self._hasher.hash("clearguard-dummy-password-for-timing-equality")

    def _acquire(self) -> None:
        if not self._slots.acquire(timeout=self._wait):
            raise Busy("password hashing capacity exhausted: retry shortly")

    def hash(self, password: str) -> str:
        self._acquire()
        try:
            return self._hasher.hash(normalize(password))
        finally:
            self._slots.release()

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True when it matches; a None hash (unknown user) is verified against a dummy at equal cost."""
        self._acquire()
        try:
            try:
                self._hasher.verify(stored_hash or self._dummy_hash, normalize(password))
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False
            return stored_hash is not None
        finally:
            self._slots.release()

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)
