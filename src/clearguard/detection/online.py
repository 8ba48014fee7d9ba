"""The production Detector for a running process: the rules, thresholds and time zone the settings
put in force. One place, so the server, the CLI and the benchmark detect alike."""

from __future__ import annotations

from collections.abc import Callable

from clearguard.config import Settings
from clearguard.detection.configured import detection_config, detection_timezone, rule_set
from clearguard.detection.engine import Detector, Finding
from clearguard.detection.responses import ResponsePolicy


def build_detector(settings: Settings) -> Callable[[Callable[[Finding], bool]], Detector]:
    """A factory (the rules are compiled when the DetectionService first needs them)."""

    def make(suppressed: Callable[[Finding], bool]) -> Detector:
        config = detection_config(settings)
        return Detector(
            rule_set(settings, config),
            config=config,
            locations=None,
            suppressed=suppressed,
            timezone=detection_timezone(settings),
        )

    return make


def response_policy(settings: Settings) -> ResponsePolicy:
    return ResponsePolicy(
        on_confirmed=tuple(settings.detection_response_confirmed),
        on_high=tuple(settings.detection_response_high),
        lock_seconds=settings.detection_response_lock_seconds,
    )
