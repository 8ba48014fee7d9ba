"""The rule set: Sigma rules loaded with pySigma and compiled for the matcher (filled in next)."""

from __future__ import annotations

from clearguard.detection.enrich import EnrichedEvent
from clearguard.detection.hits import RuleHit


class RuleSet:
    def evaluate(self, event: EnrichedEvent) -> list[RuleHit]:
        del event
        return []
