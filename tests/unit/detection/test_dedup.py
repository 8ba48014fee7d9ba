"""One alert per incident: later events of an active incident extend it; a burst after a quiet gap
is a new incident; group-by keeps incidents apart; scorers' findings go through the same gate."""

from __future__ import annotations

from datetime import timedelta

from clearguard.detection.engine import Finding
from clearguard.detection.enrich import EnrichedEvent
from clearguard.detection.thresholds import DetectionConfig
from tests.unit.detection.support import MONDAY_10, alerts, detector, ev, every, run

ATTACKER = "10.99.0.66"


def burst(start_offset_s: float, n: int, actor: str = "officer-1", step_s: float = 5) -> list:  # type: ignore[type-arg]
    start = MONDAY_10 + timedelta(seconds=start_offset_s)
    return [ev(t, actor, "auth.login", outcome="failure", source_ip=ATTACKER) for t in every(start, n, step_s)]


def test_a_long_brute_force_is_one_alert_and_its_incident_grows() -> None:
    det = detector()
    found = run(burst(0, 400, step_s=5), det)  # 33 minutes of failures
    hits = alerts(found, "brute_force_account")
    assert len(hits) == 1
    incident = det.incident(hits[0].incident)
    assert incident is not None and incident.findings == 400 - 7
    assert incident.last_at == MONDAY_10 + timedelta(seconds=399 * 5)
    assert hits[0].incident.startswith("brute_force_account:") and "officer-1" not in hits[0].incident


def test_a_burst_after_the_incident_went_quiet_is_a_new_incident() -> None:
    det = detector(DetectionConfig(incident_gap_s=1800))
    first = alerts(run(burst(0, 10), det), "brute_force_account")
    within_gap = alerts(run(burst(1500, 10), det), "brute_force_account")
    after_gap = alerts(run(burst(1500 + 45 + 1801, 10), det), "brute_force_account")
    assert len(first) == 1 and within_gap == [] and len(after_gap) == 1
    assert after_gap[0].incident != first[0].incident


def test_group_by_keeps_incidents_apart() -> None:
    events = sorted(burst(0, 8, "officer-1") + burst(1, 8, "officer-2"), key=lambda e: e.at)
    hits = alerts(run(events), "brute_force_account")
    assert sorted(h.actors for h in hits) == [("officer-1",), ("officer-2",)]
    assert len({h.incident for h in hits}) == 2


def test_suppressed_findings_are_not_raised() -> None:
    det = detector(suppressed=lambda f: f.rule == "brute_force_account" and "officer-1" in f.actors)
    events = sorted(burst(0, 8, "officer-1") + burst(1, 8, "officer-2"), key=lambda e: e.at)
    hits = alerts(run(events, det), "brute_force_account")
    assert [h.actors for h in hits] == [("officer-2",)]


class ExportCounter:
    """A scorer as the anomaly model implements one: a finding once an actor exported 3 times."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.fields: list[str] = []

    def observe(self, event: EnrichedEvent) -> list[Finding]:
        self.fields = sorted(event.fields)
        if event.event.action != "declaration.export":
            return []
        n = self.seen[event.actor] = self.seen.get(event.actor, 0) + 1
        if n < 3:
            return []
        return [
            Finding(
                rule="model",
                kind="anomaly",
                level="alert",
                severity="medium",
                actors=(event.actor,),
                sources=(),
                first_at=event.at,
                at=event.at,
                incident=f"model|{event.actor}",
                explanation=f"{n} exports",
                features={"exports": float(n)},
            )
        ]


def test_scorer_findings_are_deduplicated_like_rule_findings() -> None:
    scorer = ExportCounter()
    det = detector(scorers=[scorer])
    events = [ev(t, action="declaration.export") for t in every(MONDAY_10, 6, 60)]
    found = run(events, det)
    model = [f for f in found if f.rule == "model"]
    assert len(model) == 1 and model[0].features == {"exports": 3.0}
    assert model[0].incident.startswith("model:")
    # the scorer sees the enrichment the rules see
    assert {"distance_km", "speed_kmh", "off_hours", "new_source", "weekend"} <= set(scorer.fields)
