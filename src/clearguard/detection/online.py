"""The production Detector for a running process: the rules, thresholds and time zone the settings
put in force. One place, so the server, the CLI and the benchmark detect alike."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from clearguard.config import Settings
from clearguard.detection.configured import detection_config, detection_timezone, rule_set
from clearguard.detection.engine import Detector, Finding, Scorer
from clearguard.detection.events import ActivityEvent
from clearguard.detection.locations import load_locations
from clearguard.detection.model import ActivityModel
from clearguard.detection.responses import ResponsePolicy


def build_detector(
    settings: Settings,
) -> Callable[[Callable[[Finding], bool], Sequence[ActivityEvent]], Detector]:
    """A factory (the rules are compiled when the DetectionService first needs them): the rules, the
    locations table when one is configured (impossible travel needs it), and the anomaly model fitted
    on the stored baseline, as `detection evaluate` replays them."""

    def make(suppressed: Callable[[Finding], bool], baseline: Sequence[ActivityEvent]) -> Detector:
        config = detection_config(settings)
        locations = (
            load_locations(settings.detection_locations_file) if settings.detection_locations_file else None
        )
        scorers: list[Scorer] = []
        if enough_baseline(baseline, settings.detection_baseline_days):
            scorers.append(ActivityModel().fit(baseline))
        return Detector(
            rule_set(settings, config),
            config=config,
            locations=locations,
            scorers=scorers,
            suppressed=suppressed,
            timezone=detection_timezone(settings),
        )

    return make


def enough_baseline(baseline: Sequence[ActivityEvent], days: int) -> bool:
    """The model judges a day against the actor's and its role's ordinary days: without at least
    half the configured baseline on record (a new installation), it would call everything unusual,
    so it waits and the rules work alone."""
    if days <= 0 or not baseline:
        return False
    return len({event.at.date() for event in baseline}) >= max(1, days // 2)


def response_policy(settings: Settings) -> ResponsePolicy:
    return ResponsePolicy(
        on_confirmed=tuple(settings.detection_response_confirmed),
        on_high=tuple(settings.detection_response_high),
        lock_seconds=settings.detection_response_lock_seconds,
    )
