"""Evaluation as an operator runs it: `clearguard detection simulate` then `clearguard detection evaluate`
on a small population (40 accounts, 30 days). Every scenario kind is detected; the report has the
issue's keys; rules alone and the model alone match separate replays; a model trained on shuffled
days loses detection (the evaluation can fail); bad lines are refused with their number unless
--skip-bad, which says how many it skipped."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from clearguard.cli import app
from clearguard.detection.attacks import KINDS
from clearguard.detection.engine import ActivityEvent, DetectionConfig
from clearguard.detection.evaluate import baseline_end, evaluate_events, load_labels, replay, score
from clearguard.detection.events import read_events
from clearguard.detection.locations import load_locations
from clearguard.detection.model import ActivityModel
from clearguard.detection.ruleset import RuleSet, load_rules

runner = CliRunner()
KEYS = ["scenarios", "detected", "detection_rate", "per_kind", "alerts", "false_alerts", "user_days",
        "false_alerts_per_1000_user_days", "median_time_to_detect_s"]  # fmt: skip


def cli(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, f"{args}: {result.output}"
    return json.loads(result.stdout) if code == 0 and "--json" in args else result.output


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("population")
    env = {**os.environ, "CLEARGUARD_VAR_DIR": str(out / "var")}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "clearguard"), "detection", "simulate", "--users", "40", "--days", "30",
         "--seed", "3", "--out", str(out), "--json"], capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["scenarios"] == len(KINDS)
    return out


def args_for(folder: Path, events: Path | None = None) -> list[str]:
    return ["detection", "evaluate", "--events", str(events or folder / "events.jsonl"), "--labels",
            str(folder / "labels.json"), "--locations", str(folder / "locations.csv"), "--json"]  # fmt: skip


@pytest.fixture(scope="module")
def report(population: Path) -> dict[str, Any]:
    return cli(*args_for(population))  # type: ignore[no-any-return]


def test_every_kind_is_detected_with_few_false_alerts(report: dict[str, Any]) -> None:
    assert list(report) == [*KEYS, "rules_only", "model_only"]
    assert list(report["rules_only"]) == KEYS and list(report["model_only"]) == KEYS
    assert report["scenarios"] == len(KINDS)
    assert {kind: v["detected"] for kind, v in report["per_kind"].items()} == dict.fromkeys(KINDS, 1)
    assert report["detection_rate"] == 1.0
    assert report["user_days"] > 400
    # a handful of user-days: the budget is about 1 per 1,000, so allow a couple of false alerts
    assert report["false_alerts"] <= 3
    assert report["median_time_to_detect_s"] is not None
    # the top level is rules and model together
    assert report["alerts"] == report["rules_only"]["alerts"] + report["model_only"]["alerts"]
    assert report["detected"] >= max(report["rules_only"]["detected"], report["model_only"]["detected"])


def test_parts_match_separate_replays(population: Path, report: dict[str, Any]) -> None:
    events, _ = read_events(population / "events.jsonl", skip_bad=False)
    labels = load_labels(population / "labels.json")
    locations = load_locations(population / "locations.csv")
    config = DetectionConfig()
    horizon = baseline_end(events, 14)
    user_days = report["user_days"]
    rules = load_rules(config)
    alone = replay(events, rules=rules, config=config, locations=locations, model=None, horizon=horizon)
    assert score(alone, labels, horizon=horizon, user_days=user_days) == report["rules_only"]
    no_rules = RuleSet(version="none", files=(), _base=(), _correlations=())
    model = replay(events, rules=no_rules, config=config, locations=locations, model=ActivityModel(), horizon=horizon)
    assert score(model, labels, horizon=horizon, user_days=user_days) == report["model_only"]


class ShuffledDays(ActivityModel):
    """The anomaly model fitted on baseline days whose owners are shuffled: each actor-day is handed
    to a random actor, so its own history and its role's peers say nothing true."""

    def fit(self, events: Iterable[ActivityEvent]) -> ActivityModel:
        from dataclasses import replace

        events = list(events)
        rng = random.Random(0)
        actors = sorted({(e.actor, e.role) for e in events})
        owner: dict[tuple[str, object], tuple[str, str]] = {}
        shuffled = []
        for e in events:
            key = (e.actor, e.at.date())
            if key not in owner:
                owner[key] = rng.choice(actors)
            name, role = owner[key]
            shuffled.append(replace(e, actor=name, role=role))
        return super().fit(shuffled)


def test_a_model_trained_on_shuffled_days_loses_detection(population: Path, report: dict[str, Any]) -> None:
    events, _ = read_events(population / "events.jsonl", skip_bad=False)
    labels = load_labels(population / "labels.json")
    no_rules = RuleSet(version="none", files=(), _base=(), _correlations=())
    shuffled, _ = evaluate_events(events, labels, locations=load_locations(population / "locations.csv"),
                                  rules=no_rules, model=ShuffledDays())  # fmt: skip
    honest = report["model_only"]
    assert honest["detected"] >= 3
    worse_detection = shuffled["detected"] < honest["detected"]
    more_noise = shuffled["false_alerts"] > honest["false_alerts"] + 3
    assert worse_detection or more_noise, (shuffled, honest)


def test_bad_lines_are_refused_with_their_number_unless_skipped(population: Path, tmp_path: Path) -> None:
    lines = (population / "events.jsonl").read_text().splitlines(keepends=True)
    broken = lines[:100] + ['{"at": "2026-03-02T09:00:00Z", "actor": "x", "action": "declaration.read"\n']
    broken += lines[100:200] + [lines[150].replace("declaration.", "declaration.teleport.", 1)] + lines[200:]
    bad = tmp_path / "events.jsonl"
    bad.write_text("".join(broken))
    output = cli(*args_for(population, bad), code=2)
    assert "line 101" in output and "line 202" in output and "--skip-bad" in output
    assert "Traceback" not in output
    result = runner.invoke(app, [*args_for(population, bad), "--skip-bad"])
    assert result.exit_code == 0, result.output
    assert "2 bad line(s) skipped" in result.stderr
    assert json.loads(result.stdout)["scenarios"] == len(KINDS)


@pytest.mark.parametrize(
    ("content", "needle"),
    [("{not json", "labels.json: not JSON"), ('[{"scenario": "a", "kind": "k", "start": "x", "end": "y"}]', "start"),
     ('[{"scenario": "a", "kind": "k", "actors": "bob", "start": "2026-01-01T00:00:00Z", '
      '"end": "2026-01-01T00:00:00Z"}]', "actors: must be a list")],
)  # fmt: skip
def test_bad_labels_are_refused(population: Path, tmp_path: Path, content: str, needle: str) -> None:
    (tmp_path / "labels.json").write_text(content)
    args = args_for(population)
    args[args.index("--labels") + 1] = str(tmp_path / "labels.json")
    output = cli(*args, code=2)
    assert needle in output and "Traceback" not in output


def test_simulate_refuses_bad_arguments(tmp_path: Path) -> None:
    output = cli("detection", "simulate", "--users", "3", "--days", "30", "--out", str(tmp_path), code=2)
    assert "users: must be at least 10" in output
    assert not any(tmp_path.iterdir())
