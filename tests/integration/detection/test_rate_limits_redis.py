"""Rate limits shared by several workers through Redis (the production setting), and kept apart in
memory: two EdgeLimits on one Redis count together; two in memory do not."""

from __future__ import annotations

import uuid

import pytest

from clearguard.detection.errors import DetectionInputError
from clearguard.detection.ratelimit import EdgeLimits, RateLimited

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as exc:
        pytest.skip(f"redis unavailable: {exc}")
    return REDIS_URL


def test_workers_share_the_limit_through_redis(redis_url: str) -> None:
    source = f"203.0.113.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:8]}"
    workers = [EdgeLimits(principal_rate="3/minute", source_rate="4/minute", redis_url=redis_url) for _ in range(2)]
    answers = [workers[i % 2].admit_source(source) for i in range(6)]
    assert answers[:4] == [None] * 4 and all(a is not None and 1 <= a <= 60 for a in answers[4:])
    name = "officer-" + uuid.uuid4().hex[:8]
    for i in range(3):
        workers[i % 2].refuse_principal(name)
    with pytest.raises(RateLimited) as refused:
        workers[1].refuse_principal(name)
    assert refused.value.status == 429 and refused.value.field == "principal"
    assert 1 <= refused.value.extra["retry_after"] <= 60


def test_in_memory_limits_are_per_process() -> None:
    a, b = (EdgeLimits(principal_rate="1/minute", source_rate="1/minute") for _ in range(2))
    assert a.admit_source("192.0.2.1") is None and b.admit_source("192.0.2.1") is None
    assert a.admit_source("192.0.2.1") is not None


def test_a_bad_rate_names_the_setting() -> None:
    with pytest.raises(DetectionInputError) as bad:
        EdgeLimits(principal_rate="fifty a second", source_rate="200/second")
    assert bad.value.field == "detection_edge_principal_rate"
