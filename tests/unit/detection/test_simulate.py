"""The simulator: deterministic for a seed, files in the issue's formats that the parsers accept,
every scenario kind after the baseline days, and clear refusals of bad arguments."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest

from clearguard.detection.attacks import KINDS
from clearguard.detection.errors import DetectionInputError
from clearguard.detection.evaluate import baseline_end, load_labels
from clearguard.detection.events import FIELDS, read_events
from clearguard.detection.locations import load_locations
from clearguard.detection.simulate import BASELINE_DAYS, simulate, write_simulation

FILES = ("events.jsonl", "labels.json", "locations.csv")


def digest(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in FILES}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "a"
    write_simulation(simulate(20, 20, seed=11), out)
    return out


def test_same_seed_gives_byte_identical_files(small: Path, tmp_path: Path) -> None:
    write_simulation(simulate(20, 20, seed=11), tmp_path / "b")
    assert digest(small) == digest(tmp_path / "b")
    write_simulation(simulate(20, 20, seed=12), tmp_path / "c")
    other = digest(tmp_path / "c")
    assert other["events.jsonl"] != digest(small)["events.jsonl"]
    assert other["labels.json"] != digest(small)["labels.json"]


def test_noise_changes_the_population(small: Path, tmp_path: Path) -> None:
    write_simulation(simulate(20, 20, seed=11, noise="high"), tmp_path / "high")
    assert digest(tmp_path / "high")["events.jsonl"] != digest(small)["events.jsonl"]


def test_files_parse_in_the_issue_formats(small: Path) -> None:
    events, bad = read_events(small / "events.jsonl", skip_bad=False)
    assert bad == [] and len(events) > 5000
    first = json.loads((small / "events.jsonl").read_text().splitlines()[0])
    assert tuple(first) == FIELDS
    assert {e.action for e in events} >= {"auth.login", "auth.mfa", "auth.refresh", "declaration.read",
                                          "declaration.list", "declaration.export", "declaration.lodge",
                                          "declaration.decide", "access.breakglass", "account.role_change"}
    assert {e.outcome for e in events} == {"success", "failure", "denied"}
    assert {e.role for e in events} >= {"officer", "trader", "broker", "risk_analyst", "auditor", "dpo", "admin"}
    rows = list(csv.reader((small / "locations.csv").read_text().splitlines()))
    assert rows[0] == ["cidr", "city", "country", "lat", "lon"]
    locations = load_locations(small / "locations.csv")
    assert len(locations) == len(rows) - 1
    known = sum(locations.lookup(e.source_ip) is not None for e in events)
    assert known / len(events) > 0.95  # staff and businesses sit in listed networks


def test_every_kind_is_labelled_after_the_baseline(small: Path) -> None:
    events, _ = read_events(small / "events.jsonl", skip_bad=False)
    labels = load_labels(small / "labels.json")
    assert {label.kind for label in labels} == set(KINDS)
    horizon = baseline_end(events, BASELINE_DAYS)
    names = {e.actor for e in events}
    sources = {e.source_ip for e in events}
    for label in labels:
        assert label.start >= horizon, label.scenario
        assert label.end <= events[-1].at + timedelta(seconds=1)
        assert label.actors and label.actors <= names, label.scenario
        assert label.sources and label.sources <= sources, label.scenario


def test_scenarios_scale_with_the_population() -> None:
    sim = simulate(200, 60, seed=5)
    kinds = [label["kind"] for label in sim.labels]
    assert all(kinds.count(kind) >= 3 for kind in KINDS)  # several of each kind


@pytest.mark.parametrize(
    ("users", "days", "noise", "field"),
    [(5, 30, "normal", "users"), (40, 14, "normal", "days"), (40, 30, "wild", "noise")],
)
def test_bad_arguments_are_refused(users: int, days: int, noise: str, field: str) -> None:
    with pytest.raises(DetectionInputError) as caught:
        simulate(users, days, seed=1, noise=noise)
    assert caught.value.field == field and caught.value.exit_code == 2
