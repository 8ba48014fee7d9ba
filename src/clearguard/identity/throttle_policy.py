"""Brute-force policy without I/O: how long a key must wait after n failures.

Delays grow with each failure past a free allowance, then a temporary lock applies. The counter's
window starts at the first failure and lasts as long as the lock, so by the time a lock ends the
window has ended too and the count starts afresh: a lock is never permanent, and an attacker can
at most keep someone locked out for one lock period per `lock_after` failures they pay for.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_failures: int
    lock_after: int
    lock_seconds: int
    max_delay_seconds: int = 60

    def wait_after(self, failures: int) -> int:
        """Seconds before the next attempt is allowed, after `failures` failures in the window."""
        if failures >= self.lock_after:
            return self.lock_seconds
        if failures < self.free_failures:
            return 0
        return min(int(2 ** (failures - self.free_failures)), self.max_delay_seconds)


# Per account: a real user mistypes a few times; 10 failures lock for 15 minutes (issue 3).
ACCOUNT_POLICY = ThrottlePolicy(free_failures=3, lock_after=10, lock_seconds=15 * 60)
# Per source address: many users may share one NAT, so the allowance is larger.
ADDRESS_POLICY = ThrottlePolicy(free_failures=20, lock_after=100, lock_seconds=15 * 60)
