"""Rate limits at the API edge, per principal and per source, with the `limits` library's moving
window: in this process by default, in Redis (shared by every worker) when the settings name one."""

from __future__ import annotations

import math
import time
from typing import Final

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from clearguard.detection.errors import DetectionInputError, RequestBlocked

_NAMESPACE: Final = "clearguard-edge"


class RateLimited(RequestBlocked):
    slug = "too-many-requests"
    title = "Too many requests"
    status = 429
    exit_code = 1


def _rate(text: str, setting: str) -> RateLimitItem:
    try:
        return parse(text)
    except ValueError as exc:
        raise DetectionInputError(f"{setting}: not a rate such as '50/second' ({exc})", field=setting) from exc


class EdgeLimits:
    def __init__(self, *, principal_rate: str, source_rate: str, redis_url: str | None = None) -> None:
        self.principal = _rate(principal_rate, "detection_edge_principal_rate")
        self.source = _rate(source_rate, "detection_edge_source_rate")
        self._limiter = MovingWindowRateLimiter(storage_from_string(redis_url or "memory://"))

    def _admit(self, item: RateLimitItem, kind: str, key: str) -> int | None:
        """None when admitted, else the seconds to wait (Retry-After)."""
        if self._limiter.hit(item, _NAMESPACE, kind, key):
            return None
        reset = self._limiter.get_window_stats(item, _NAMESPACE, kind, key).reset_time
        return max(1, math.ceil(reset - time.time()))

    def admit_source(self, source: str) -> int | None:
        return self._admit(self.source, "source", source)

    def admit_principal(self, username: str) -> int | None:
        return self._admit(self.principal, "principal", username)

    def refuse_principal(self, username: str) -> None:
        """Raises RateLimited (429 with Retry-After) when the principal is over its rate."""
        wait = self.admit_principal(username)
        if wait is not None:
            raise RateLimited(
                f"principal: more than {self.principal} requests; retry in {wait} s",
                field="principal",
                extra={"retry_after": wait},
            )
