"""The production Detector for a running process: the shipped rules, the thresholds from settings,
the locations table when one is configured. One place, so the server, the CLI and the benchmark
detect alike."""

from __future__ import annotations

from collections.abc import Callable

from clearguard.config import Settings
from clearguard.detection.engine import DetectionConfig, Detector, Finding, RuleSet
from clearguard.detection.responses import ResponsePolicy


def build_detector(settings: Settings) -> Callable[[Callable[[Finding], bool]], Detector]:
    del settings  # thresholds and locations from settings: with the rule loader (detection-core)

    def make(suppressed: Callable[[Finding], bool]) -> Detector:
        return Detector(RuleSet(), config=DetectionConfig(), locations=None, suppressed=suppressed)

    return make


def response_policy(settings: Settings) -> ResponsePolicy:
    return ResponsePolicy(
        on_confirmed=tuple(settings.detection_response_confirmed),
        on_high=tuple(settings.detection_response_high),
        lock_seconds=settings.detection_response_lock_seconds,
    )
