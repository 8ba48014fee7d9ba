"""Brute-force policy without I/O: how long a key must wait after n failures.

Delays grow with each failure past a free allowance; a locking policy then applies a temporary lock.
The counter's window starts at the first failure and lasts as long as the lock, so by the time a lock
ends the window has ended too and the count starts afresh: a lock is never permanent.

Which keys are counted, and why nobody can lock anyone else out (issue 13, item 11):
- the pair (account, source address) carries the growing delays and the lock: an attacker's
  failures hold back only the attacker's own address for that account;
- the account as a whole carries a softer slowdown that never locks and is applied to a source only
  after that source's own failure (its pair's wait is the larger of the two): a distributed guess
  slows down, and a source that has not failed is never held back by failures made elsewhere;
- the source address across accounts (password spraying from one address) keeps its own limit;
- a step-up inside a valid session is held back only by failures made in that session (its failures
  also join the account's soft count, which holds back only sources that have failed themselves).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_failures: int
    lock_after: int
    lock_seconds: int
    max_delay_seconds: int = 60
    # False: a slowdown only; the delay stops growing at max_delay_seconds and never becomes a lock.
    locks: bool = True

    @property
    def window_seconds(self) -> int:
        """How long failures are remembered after the first one of a window."""
        return self.lock_seconds

    def wait_after(self, failures: int) -> int:
        """Seconds before the next attempt is allowed, after `failures` failures in the window."""
        if failures < self.free_failures:
            return 0
        if self.locks and failures >= self.lock_after:
            return self.lock_seconds
        return min(int(2 ** min(failures - self.free_failures, 32)), self.max_delay_seconds)

    def waits(self) -> tuple[list[int], int]:
        """wait_after(1..n) and the wait for every count past n: the whole policy as data, for the
        Redis script, which must apply exactly the same numbers."""
        last = self.lock_after if self.locks else self.free_failures + self.max_delay_seconds.bit_length() + 1
        return [self.wait_after(n) for n in range(1, last + 1)], self.wait_after(last + 1)


# Per (account, source address): a real user mistypes a few times; 10 failures lock that pair for
# 15 minutes (the account stays open from every other address).
PAIR_POLICY = ThrottlePolicy(free_failures=3, lock_after=10, lock_seconds=15 * 60)
# Per account, whatever the source: a slowdown of at most 30 s after a source's own failure, never a lock.
ACCOUNT_POLICY = ThrottlePolicy(
    free_failures=5, lock_after=10**9, lock_seconds=15 * 60, max_delay_seconds=30, locks=False
)
# Per source address: many users may share one NAT, so the allowance is larger.
ADDRESS_POLICY = ThrottlePolicy(free_failures=20, lock_after=100, lock_seconds=15 * 60)
# Per authenticated session (step-up): failures elsewhere never count here.
STEP_UP_POLICY = ThrottlePolicy(free_failures=3, lock_after=10, lock_seconds=15 * 60)
