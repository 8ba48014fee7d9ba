"""Evaluation on labelled activity: replay the events in time order through the production Detector
(the rules, the anomaly model fitted on the first baseline days only, deduplication) and score the
alerts against the labels.

Scoring (issue 16): a scenario is detected when an alert names one of its actors or sources and is
raised between its start and one hour after its end; every other alert raised after the baseline days
is false; alerts inside the baseline days are not scored, notices never count. `user_days` counts the
actor-days with at least one event after the baseline days.

Rules alone and the model alone are scored from the same replay: the Detector deduplicates per
incident, and a rule's incident never merges with the model's, neither feeds the other, and nothing
is suppressed in an evaluation, so the alerts a Detector with only the rules (or only the model)
raises are exactly the combined run's alerts of that producer. A test checks this against separate
replays.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from clearguard.detection.engine import (
    ActivityEvent,
    DetectionConfig,
    Detector,
    EnrichedEvent,
    Finding,
    Locations,
    RuleSet,
    Scorer,
)
from clearguard.detection.errors import DetectionInputError
from clearguard.detection.events import BadLine, parse_time, read_events
from clearguard.detection.locations import load_locations
from clearguard.detection.model import ActivityModel
from clearguard.user_files import read_limited

DETECTION_SLACK = timedelta(hours=1)
MAX_LABELS_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Label:
    scenario: str
    kind: str
    actors: frozenset[str]
    sources: frozenset[str]
    start: datetime
    end: datetime

    def covers(self, alert: Finding) -> bool:
        named = not self.actors.isdisjoint(alert.actors) or not self.sources.isdisjoint(alert.sources)
        return named and self.start <= alert.at <= self.end + DETECTION_SLACK


def parse_labels(text: str, name: str = "labels") -> list[Label]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DetectionInputError(f"{name}: not JSON ({exc.msg}, line {exc.lineno})", field="labels") from None
    except (ValueError, RecursionError):  # a number past 4300 digits, nesting past the stack
        reason = "nested too deeply or a number too long"
        raise DetectionInputError(f"{name}: not JSON ({reason})", field="labels") from None
    if not isinstance(data, list):
        raise DetectionInputError(f"{name}: must be a JSON list of scenarios", field="labels")
    labels = []
    for n, item in enumerate(data):
        where = f"{name}[{n}]"
        if not isinstance(item, dict):
            raise DetectionInputError(f"{where}: must be an object", field="labels")
        for key in ("scenario", "kind"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise DetectionInputError(f"{where}: {key}: must be a non-empty string", field=key)
        for key in ("actors", "sources"):
            value = item.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise DetectionInputError(f"{where}: {key}: must be a list of strings", field=key)
        try:
            start, end = parse_time(item.get("start"), n, "start"), parse_time(item.get("end"), n, "end")
        except DetectionInputError as exc:
            raise DetectionInputError(f"{where}: {exc.field}: must be an ISO 8601 time with a zone",
                                      field=exc.field) from None  # fmt: skip
        if end < start:
            raise DetectionInputError(f"{where}: end: is before start", field="end")
        labels.append(Label(item["scenario"], item["kind"], frozenset(item.get("actors", [])),
                            frozenset(item.get("sources", [])), start, end))  # fmt: skip
    return labels


def load_labels(path: Path) -> list[Label]:
    from clearguard.errors import InputError

    try:
        raw = read_limited(path, max_bytes=MAX_LABELS_BYTES, setting="the labels file limit")
        return parse_labels(raw.decode("utf-8"), path.name)
    except InputError as exc:
        raise DetectionInputError(str(exc), field="labels") from None
    except UnicodeDecodeError as exc:
        raise DetectionInputError(f"{path.name}: not UTF-8 (byte {exc.start})", field="labels") from None


class AfterBaseline:
    """The model as the replay sees it: it was fitted on the baseline days, so it scores only what
    comes after them (the Detector still enriches and matches the baseline days with the rules)."""

    def __init__(self, model: Scorer, horizon: datetime) -> None:
        self.model = model
        self.horizon = horizon

    def observe(self, event: EnrichedEvent) -> list[Finding]:
        if event.at < self.horizon:
            return []
        return self.model.observe(event)


def baseline_end(events: Sequence[ActivityEvent], days: int) -> datetime:
    first = events[0].at.astimezone(UTC)
    return datetime(first.year, first.month, first.day, tzinfo=UTC) + timedelta(days=days)


def replay(events: Sequence[ActivityEvent], *, rules: RuleSet, config: DetectionConfig, locations: Locations | None,
           model: ActivityModel | None, horizon: datetime, timezone: str = "UTC") -> list[Finding]:  # fmt: skip
    """Every alert and notice the Detector raises over the events, in order; the model (if any) is
    fitted here on the events before `horizon`."""
    scorers: list[Scorer] = []
    if model is not None:
        model.fit(e for e in events if e.at < horizon)
        scorers.append(AfterBaseline(model, horizon))
    detector = Detector(rules, config=config, locations=locations, scorers=scorers, timezone=timezone)
    found: list[Finding] = []
    for event in events:
        found.extend(detector.observe(event))
    return found


def score(alerts: Iterable[Finding], labels: Sequence[Label], *, horizon: datetime, user_days: int) -> dict[str, Any]:
    scored = [a for a in alerts if a.level == "alert" and a.at >= horizon]
    first_hit: dict[str, float] = {}
    false = 0
    for alert in scored:
        hit = False
        for label in labels:
            if label.covers(alert):
                hit = True
                delay = max(0.0, (alert.at - label.start).total_seconds())
                first_hit[label.scenario] = min(delay, first_hit.get(label.scenario, delay))
        false += not hit
    per_kind: dict[str, dict[str, int]] = {}
    for label in labels:
        kind = per_kind.setdefault(label.kind, {"scenarios": 0, "detected": 0})
        kind["scenarios"] += 1
        kind["detected"] += label.scenario in first_hit
    detected = sum(1 for label in labels if label.scenario in first_hit)
    delays = [first_hit[label.scenario] for label in labels if label.scenario in first_hit]
    return {
        "scenarios": len(labels),
        "detected": detected,
        "detection_rate": round(detected / len(labels), 4) if labels else 0.0,
        "per_kind": dict(sorted(per_kind.items())),
        "alerts": len(scored),
        "false_alerts": false,
        "user_days": user_days,
        "false_alerts_per_1000_user_days": round(1000 * false / user_days, 3) if user_days else 0.0,
        "median_time_to_detect_s": round(statistics.median(delays), 1) if delays else None,
    }


def count_user_days(events: Iterable[ActivityEvent], horizon: datetime) -> int:
    return len({(e.actor, e.at.date()) for e in events if e.at >= horizon})


@dataclass
class Evaluation:
    report: dict[str, Any]
    skipped: list[BadLine]
    findings: list[Finding]


def evaluate_events(events: Sequence[ActivityEvent], labels: Sequence[Label], *, locations: Locations | None,
                    rules: RuleSet, config: DetectionConfig | None = None, baseline_days: int = 14,
                    model: ActivityModel | None = None,
                    timezone: str = "UTC") -> tuple[dict[str, Any], list[Finding]]:  # fmt: skip
    if not events:
        raise DetectionInputError("events: the file holds no events", field="events")
    if baseline_days < 1:
        raise DetectionInputError("baseline-days: must be at least 1", field="baseline-days")
    config = config or DetectionConfig()
    horizon = baseline_end(events, baseline_days)
    if events[-1].at < horizon:
        raise DetectionInputError(f"baseline-days: the events end inside the first {baseline_days} days",
                                  field="baseline-days")  # fmt: skip
    model = model or ActivityModel()
    findings = replay(events, rules=rules, config=config, locations=locations, model=model, horizon=horizon,
                      timezone=timezone)  # fmt: skip
    user_days = count_user_days(events, horizon)
    is_model: Callable[[Finding], bool] = lambda f: f.rule == ActivityModel.rule  # noqa: E731
    report = score(findings, labels, horizon=horizon, user_days=user_days)
    report["rules_only"] = score([f for f in findings if not is_model(f)], labels, horizon=horizon,
                                 user_days=user_days)  # fmt: skip
    report["model_only"] = score([f for f in findings if is_model(f)], labels, horizon=horizon, user_days=user_days)
    return report, findings


def evaluate_files(events_path: Path, labels_path: Path, locations_path: Path, *, rules: RuleSet,
                   config: DetectionConfig | None = None, baseline_days: int = 14,
                   skip_bad: bool = False, timezone: str = "UTC") -> Evaluation:  # fmt: skip
    labels = load_labels(labels_path)
    locations = load_locations(locations_path)
    events, bad = read_events(events_path, skip_bad=skip_bad)
    report, findings = evaluate_events(events, labels, locations=locations, rules=rules, config=config,
                                       baseline_days=baseline_days, timezone=timezone)  # fmt: skip
    return Evaluation(report, bad, findings)
