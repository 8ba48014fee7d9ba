"""The Detector: enrich each event, match the rules, run the scorers, deduplicate.

One alert per incident: an incident is a rule (or scorer) and its group-by values; a finding of the
same incident while it is active extends it and raises nothing, and one after the incident has been
quiet for `incident_gap_s` opens a new incident. Pure: events in, findings out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Protocol

from clearguard.detection.enrich import EnrichedEvent, Enricher
from clearguard.detection.events import ActivityEvent
from clearguard.detection.hits import Level, RuleHit, Severity
from clearguard.detection.locations import Locations
from clearguard.detection.ruleset import RuleSet
from clearguard.detection.thresholds import DetectionConfig

__all__ = [
    "ActivityEvent",
    "DetectionConfig",
    "Detector",
    "EnrichedEvent",
    "Finding",
    "Incident",
    "Locations",
    "RuleSet",
    "Scorer",
]

_NO_FEATURES: Mapping[str, float] = MappingProxyType({})


@dataclass(frozen=True)
class Finding:
    rule: str
    kind: str
    level: Level
    severity: Severity
    actors: tuple[str, ...]
    sources: tuple[str, ...]
    first_at: datetime
    at: datetime
    # Deduplication key. A producer (rule or scorer) sets its grouping key (e.g. "model:officer-17");
    # the Detector replaces it by the incident's id (key, hashed, and the incident's start).
    incident: str
    explanation: str  # one line a security officer understands: what, how many, which window
    features: Mapping[str, float] = field(default_factory=lambda: _NO_FEATURES)  # what made it unusual (model findings)

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "kind": self.kind,
            "level": self.level,
            "severity": self.severity,
            "actors": list(self.actors),
            "sources": list(self.sources),
            "first_at": _iso(self.first_at),
            "at": _iso(self.at),
            "incident": self.incident,
            "explanation": self.explanation,
            "features": dict(self.features),
        }


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


class Scorer(Protocol):
    """What the anomaly model implements: findings for an event, as events arrive."""

    def observe(self, event: EnrichedEvent) -> list[Finding]: ...


@dataclass(slots=True)
class Incident:
    id: str
    key: str
    first_at: datetime
    last_at: datetime
    findings: int  # how many findings it absorbed, the raising one included


def incident_id(key: str, first_at: datetime) -> str:
    """Stable, and opaque: group-by values are accounts and addresses, which an incident id carried
    into logs and URLs must not show."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    rule = key.split("|", 1)[0]
    return f"{rule}:{digest}:{first_at.strftime('%Y%m%dT%H%M%SZ')}"


def _hit_finding(hit: RuleHit) -> Finding:
    key = hit.rule + "|" + "|".join(f"{k}={v}" for k, v in hit.group)
    return Finding(
        rule=hit.rule,
        kind=hit.kind,
        level=hit.level,
        severity=hit.severity,
        actors=hit.actors,
        sources=hit.sources,
        first_at=hit.first_at,
        at=hit.at,
        incident=key,
        explanation=hit.explanation,
    )


class Detector:
    def __init__(
        self,
        rules: RuleSet,
        *,
        config: DetectionConfig,
        locations: Locations | None,
        scorers: Sequence[Scorer] = (),
        suppressed: Callable[[Finding], bool] | None = None,
        timezone: str = "UTC",
    ) -> None:
        self._rules = rules
        self._evaluator = rules.evaluator()
        self._config = config
        self._enricher = Enricher(config, locations, timezone=timezone)
        self._scorers = tuple(scorers)
        self._suppressed = suppressed
        self._incidents: dict[str, Incident] = {}
        self._last_sweep: datetime | None = None

    @property
    def config(self) -> DetectionConfig:
        return self._config

    @property
    def rules(self) -> RuleSet:
        return self._rules

    def incident(self, incident: str) -> Incident | None:
        """An incident by id, with when it was last extended."""
        return next((i for i in self._incidents.values() if i.id == incident), None)

    def observe(self, event: ActivityEvent) -> list[Finding]:
        """Findings this event raises: new incidents only (an active incident is extended)."""
        enriched = self._enricher.enrich(event)
        produced = [_hit_finding(hit) for hit in self._evaluator.evaluate(enriched)]
        for scorer in self._scorers:
            produced.extend(scorer.observe(enriched))
        raised = [f for f in (self._deduplicate(f) for f in produced) if f is not None]
        self._sweep(event.at)
        return raised

    def _deduplicate(self, finding: Finding) -> Finding | None:
        key = finding.incident
        current = self._incidents.get(key)
        gap = self._config.incident_gap_s
        if current is not None and (finding.at - current.last_at).total_seconds() <= gap:
            current.last_at = max(current.last_at, finding.at)
            current.findings += 1
            return None
        if self._suppressed is not None and self._suppressed(finding):
            return None
        new_id = incident_id(key, finding.first_at)
        self._incidents[key] = Incident(new_id, key, finding.first_at, finding.at, 1)
        return replace(finding, incident=new_id)

    def _sweep(self, now: datetime) -> None:
        """Forget incidents quiet for longer than the gap (their next finding is a new incident
        anyway), at most once per gap, so memory follows the active incidents only."""
        gap = self._config.incident_gap_s
        if self._last_sweep is not None and (now - self._last_sweep).total_seconds() < gap:
            return
        self._last_sweep = now
        stale = [k for k, i in self._incidents.items() if (now - i.last_at).total_seconds() > gap]
        for k in stale:
            del self._incidents[k]
