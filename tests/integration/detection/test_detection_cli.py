"""`clearguard detection rules | rules export | scan` as an operator runs them: through the CLI (in
process, and once as a subprocess), with real files, bad lines, bad settings and an administration's
rule folder. No database: the rules and the scan need none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from clearguard.cli import app
from tests.unit.detection.support import LOCATIONS_CSV, LONDON, MONDAY_10, NEW_YORK, ev, every

runner = CliRunner()
CLEARGUARD = str(Path(sys.executable).parent / "clearguard")


def cli(*args: str, code: int = 0) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, f"{args}: {result.output}"
    if code:
        return result.output
    return json.loads(result.stdout) if "--json" in args else result.stdout


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    events = [ev(MONDAY_10 - timedelta(hours=1), "officer-1", "auth.login", source_ip=LONDON)]
    events += [
        ev(t, "officer-1", "auth.login", outcome="failure", source_ip="10.99.0.66") for t in every(MONDAY_10, 9, 10)
    ]
    events.append(ev(MONDAY_10 + timedelta(minutes=5), "officer-1", "auth.login", source_ip=NEW_YORK))
    path = tmp_path / "events.jsonl"
    # keys in another order and without spaces on every other line
    lines = []
    for i, e in enumerate(events):
        d = e.to_dict()
        lines.append(json.dumps(dict(reversed(list(d.items()))), separators=(",", ":")) if i % 2 else json.dumps(d))
    path.write_text("\n".join(lines) + "\n")
    loc = tmp_path / "locations.csv"
    loc.write_text(LOCATIONS_CSV)
    return path, loc


def test_scan_prints_the_findings(files: tuple[Path, Path]) -> None:
    events, locations = files
    out = cli("detection", "scan", "--events", str(events), "--locations", str(locations), "--json")
    assert out["events"] == 11 and out["skipped"] == 0
    rules = sorted(f["rule"] for f in out["findings"] if f["level"] == "alert")
    assert rules == ["brute_force_account", "brute_force_source", "failures_then_success", "impossible_travel"]
    travel = next(f for f in out["findings"] if f["rule"] == "impossible_travel")
    assert travel["actors"] == ["officer-1"] and travel["sources"] == [NEW_YORK]
    assert travel["first_at"] == "2026-03-02T10:05:00Z"
    text = cli("detection", "scan", "--events", str(events), "--locations", str(locations))
    assert "11 events: 4 alerts, 1 notices" in text
    assert "impossible_travel" in text and "New York" in text


def test_scan_without_locations_finds_no_travel(files: tuple[Path, Path]) -> None:
    out = cli("detection", "scan", "--events", str(files[0]), "--json")
    assert "impossible_travel" not in {f["rule"] for f in out["findings"]}


def test_scan_refuses_bad_lines_unless_told_to_skip_them(files: tuple[Path, Path]) -> None:
    events, locations = files
    lines = events.read_bytes().splitlines()
    lines.insert(
        3,
        b'{"at":"2026-03-02T10:00:00Z","actor":"x","role":"officer","action":"auth.telepathy","outcome":"success"}',
    )
    lines.insert(5, b"\xff\xfe garbage")
    events.write_bytes(b"\n".join(lines) + b"\n")
    output = cli("detection", "scan", "--events", str(events), "--locations", str(locations), code=2)
    assert "events.jsonl: 2 bad line(s): line 4: action: 'auth.telepathy' is not a known action" in output
    assert "line 6: not UTF-8" in output and "Traceback" not in output
    out = cli("detection", "scan", "--events", str(events), "--locations", str(locations), "--skip-bad", "--json")
    assert out["skipped"] == 2 and [b["line"] for b in out["bad_lines"]] == [4, 6] and out["events"] == 11
    text = cli("detection", "scan", "--events", str(events), "--skip-bad")
    assert "2 bad lines skipped" in text


def test_scan_refuses_unreadable_files(tmp_path: Path, files: tuple[Path, Path]) -> None:
    assert "only regular files" in cli("detection", "scan", "--events", "/dev/zero", code=2)
    bad_loc = tmp_path / "bad.csv"
    bad_loc.write_text("cidr,city,country,lat,lon\n10.0.0.0/8,X,GB,95,0\n")
    output = cli("detection", "scan", "--events", str(files[0]), "--locations", str(bad_loc), code=2)
    assert "bad.csv: line 2: lat: must be between -90 and 90" in output


def test_rules_are_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    listed = cli("detection", "rules", "--json")
    assert listed["version"] == "2026.12.1"
    by_name = {r["name"]: r for r in listed["rules"]}
    assert by_name["brute_force_account"]["settings"]["count"] == {
        "setting": "brute_force_failures",
        "rule": 8.0,
        "in_force": 8.0,
    }
    monkeypatch.setenv("CLEARGUARD_DETECTION_THRESHOLDS", '{"brute_force_failures": 12}')
    listed = cli("detection", "rules", "--json")
    assert {r["name"]: r for r in listed["rules"]}["brute_force_account"]["settings"]["count"]["in_force"] == 12.0
    assert "brute_force_account" in cli("detection", "rules")


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ('{"brute_force_failure": 12}', "detection_thresholds.brute_force_failure: Extra inputs are not permitted"),
        ('{"brute_force_failures": 1}', "detection_thresholds.brute_force_failures: Input should be greater than"),
    ],
)
def test_bad_thresholds_are_refused(monkeypatch: pytest.MonkeyPatch, value: str, needle: str) -> None:
    monkeypatch.setenv("CLEARGUARD_DETECTION_THRESHOLDS", value)
    assert needle in cli("detection", "rules", code=2)


def test_bad_timezone_is_refused(monkeypatch: pytest.MonkeyPatch, files: tuple[Path, Path]) -> None:
    monkeypatch.setenv("CLEARGUARD_DETECTION_TIMEZONE", "Mars/Olympus")
    assert "detection_timezone: 'Mars/Olympus' is not an IANA time zone" in cli(
        "detection", "scan", "--events", str(files[0]), code=2
    )


def test_an_administration_folder_and_export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "night.yml").write_text(
        "title: Key operation at night\nname: night_key_operation\n"
        "logsource: {product: clearguard, category: activity}\n"
        "detection:\n  sel: {action: key.operation, off_hours: true}\n  condition: sel\nlevel: high\n"
    )
    monkeypatch.setenv("CLEARGUARD_DETECTION_RULES_DIR", str(site))
    names = {r["name"] for r in cli("detection", "rules", "--json")["rules"]}
    assert "night_key_operation" in names and "brute_force_account" in names
    target = tmp_path / "siem"
    out = cli("detection", "rules", "export", "--target", str(target), "--json")
    written = sorted(Path(p).relative_to(target).as_posix() for p in out["files"])
    assert written == [
        "clearguard/authentication.yml",
        "clearguard/data_access.yml",
        "clearguard/privileged.yml",
        "clearguard/travel.yml",
        "local/night.yml",
    ]
    assert (target / "VERSION").read_text() == "2026.12.1+site\n"
    shipped = (target / "clearguard" / "authentication.yml").read_text()
    docs = list(yaml.safe_load_all(shipped))
    assert {d["name"] for d in docs} >= {"brute_force_account", "password_spraying"}
    assert oct((target / "local" / "night.yml").stat().st_mode & 0o777) == "0o644"
    # a second export into the same folder is refused, nothing overwritten
    assert "exists and is not an empty folder" in cli("detection", "rules", "export", "--target", str(target), code=2)
    # a broken rule in the folder stops every detection command
    (site / "broken.yml").write_text(
        "title: x\nname: x\nlogsource: {product: clearguard, category: activity}\n"
        "detection: {sel: {action|bogus: x}, condition: sel}\n"
    )
    output = cli("detection", "rules", code=2)
    assert output.startswith("error: site/broken.yml") and "bogus" in output


def test_scan_as_a_subprocess(files: tuple[Path, Path], tmp_path: Path) -> None:
    env = {**os.environ, "CLEARGUARD_VAR_DIR": str(tmp_path / "var")}
    done = subprocess.run(
        [CLEARGUARD, "detection", "scan", "--events", str(files[0]), "--locations", str(files[1]), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["events"] == 11
    done = subprocess.run(
        [CLEARGUARD, "detection", "scan", "--events", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2 and "is a directory" in done.stderr and "Traceback" not in done.stderr
