"""The anomaly model on hand-made days: a burst is caught on the event that makes the day unusual (not
at midnight), named by its features, once per actor-day; ordinary days of the same actors raise
nothing; a role it never saw is not scored."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from clearguard.detection.engine import ActivityEvent, EnrichedEvent
from clearguard.detection.model import FEATURES, ActivityModel

START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def read(actor: str, at: datetime, n: int, role: str = "officer") -> ActivityEvent:
    return ActivityEvent(at=at, actor=actor, role=role, office="GB000060", action="declaration.read",
                         outcome="success", source_ip=f"10.20.1.{10 + int(actor[-1])}", user_agent="ua",
                         record=f"26GB{n:014d}", party=f"GB{n % 997:012d}", count=1)  # fmt: skip


def ordinary_day(rng: random.Random, actor: str, day: datetime) -> list[ActivityEvent]:
    times = sorted(day + timedelta(hours=8, seconds=rng.randrange(8 * 3600)) for _ in range(rng.randint(20, 35)))
    return [read(actor, t, rng.randrange(10**9)) for t in times]


def population(days: int, seed: int = 1) -> list[ActivityEvent]:
    rng = random.Random(seed)
    events: list[ActivityEvent] = []
    for d in range(days):
        day = START + timedelta(days=d)
        if day.weekday() >= 5:
            continue
        for i in range(8):
            events += ordinary_day(rng, f"officer-{i}", day)
    return sorted(events, key=lambda e: e.at)


def observe_all(model: ActivityModel, events: list[ActivityEvent]) -> list[tuple[ActivityEvent, list]]:  # type: ignore[type-arg]
    return [(e, model.observe(EnrichedEvent(e, {}))) for e in events]


def test_a_burst_is_caught_as_it_happens_once_per_day() -> None:
    baseline = population(14)
    model = ActivityModel().fit(baseline)
    day = START + timedelta(days=15)  # a Tuesday
    after = [e for e in population(16, seed=2) if e.at >= day]
    burst = [read("officer-3", day + timedelta(hours=10, seconds=20 * i), 10**10 + i) for i in range(400)]
    seen = observe_all(model, sorted(after + burst, key=lambda e: e.at))
    findings = [(e, f) for e, found in seen for f in found]
    assert len(findings) == 1, [f.explanation for _, f in findings]
    event, finding = findings[0]
    assert finding.actors == ("officer-3",) and finding.level == "alert"
    assert event.at < burst[-1].at - timedelta(hours=1), "raised while the burst runs, not at its end"
    assert set(finding.features) & {"reads", "distinct_records", "distinct_parties"}
    assert set(finding.features) <= set(FEATURES)
    assert "officer-3" in finding.explanation and "reads" in finding.explanation
    assert finding.incident.endswith(f"day={day.date().isoformat()}")


def test_ordinary_days_raise_nothing() -> None:
    model = ActivityModel().fit(population(14))
    later = [e for e in population(28, seed=3) if e.at >= START + timedelta(days=14)]
    assert [f for _, found in observe_all(model, later) for f in found] == []


def test_an_unknown_role_is_not_scored() -> None:
    model = ActivityModel().fit(population(14))
    day = START + timedelta(days=15)
    burst = [read("stranger-1", day + timedelta(hours=10, seconds=i), i, role="contractor") for i in range(500)]
    assert [f for _, found in observe_all(model, burst) for f in found] == []
