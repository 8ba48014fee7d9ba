"""The production Detector (what the server and the CLI record activity through) is the one that
`detection evaluate` replays: rules with the configured locations table, and the anomaly model fitted
on the stored baseline, which waits while the baseline is too short (a new installation)."""

from __future__ import annotations

from pathlib import Path

from clearguard.config import Settings
from clearguard.detection.evaluate import baseline_end
from clearguard.detection.events import ActivityEvent, read_events
from clearguard.detection.model import ActivityModel
from clearguard.detection.online import build_detector, enough_baseline
from clearguard.detection.simulate import simulate, write_simulation


def _findings(events: list[ActivityEvent], baseline: list[ActivityEvent], settings: Settings) -> list[str]:
    detector = build_detector(settings)(lambda _finding: False, baseline)
    return [f.rule for event in events for f in detector.observe(event) if f.level == "alert"]


def test_the_model_is_fitted_on_the_stored_baseline_and_waits_without_one(tmp_path: Path) -> None:
    write_simulation(simulate(40, 42, seed=1), tmp_path)
    events, bad = read_events(tmp_path / "events.jsonl", skip_bad=False)
    assert not bad
    horizon = baseline_end(events, 14)
    baseline = [e for e in events if e.at < horizon]
    after = [e for e in events if e.at >= horizon]
    settings = Settings(env="test", detection_locations_file=tmp_path / "locations.csv")

    with_model = _findings(after, baseline, settings)
    assert ActivityModel.rule in with_model
    first_day = [e for e in baseline if e.at.date() == baseline[0].at.date()]
    assert not enough_baseline(first_day, 14) and enough_baseline(baseline, 14)
    assert ActivityModel.rule not in _findings(after, first_day, settings)
    assert ActivityModel.rule not in _findings(after, baseline, Settings(env="test", detection_baseline_days=0))


def test_impossible_travel_needs_the_configured_locations(tmp_path: Path) -> None:
    write_simulation(simulate(40, 42, seed=1), tmp_path)
    events, _ = read_events(tmp_path / "events.jsonl", skip_bad=False)
    located = Settings(env="test", detection_locations_file=tmp_path / "locations.csv", detection_baseline_days=0)
    unlocated = Settings(env="test", detection_baseline_days=0)
    travel = [r for r in _findings(events, [], located) if "travel" in r]
    assert travel, "the simulated stolen credentials come from far away"
    assert not [r for r in _findings(events, [], unlocated) if "travel" in r]
