"""`detection scan`: the rules alone over an event file, through the same Detector as production."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearguard.config import Settings
from clearguard.detection.configured import detection_config, detection_timezone, rule_set
from clearguard.detection.engine import Detector, Finding
from clearguard.detection.events import BadLine, read_events
from clearguard.detection.locations import load_locations


@dataclass(frozen=True)
class ScanResult:
    events: int
    bad: list[BadLine]
    findings: list[Finding]

    @property
    def alerts(self) -> int:
        return sum(f.level == "alert" for f in self.findings)

    @property
    def notices(self) -> int:
        return sum(f.level == "notice" for f in self.findings)

    def to_dict(self, *, include_notices: bool = True) -> dict[str, Any]:
        return {
            "events": self.events,
            "skipped": len(self.bad),
            "bad_lines": [{"line": b.lineno, "reason": b.reason} for b in self.bad[:100]],
            "alerts": self.alerts,
            "notices": self.notices,
            "findings": [f.to_dict() for f in self.findings if include_notices or f.level == "alert"],
        }


def scan_file(settings: Settings, events_path: Path, locations_path: Path | None, *, skip_bad: bool) -> ScanResult:
    config = detection_config(settings)
    rules = rule_set(settings, config)
    locations = load_locations(locations_path) if locations_path is not None else None
    events, bad = read_events(events_path, skip_bad=skip_bad)
    detector = Detector(rules, config=config, locations=locations, timezone=detection_timezone(settings))
    findings: list[Finding] = []
    for event in events:
        findings.extend(detector.observe(event))
    return ScanResult(events=len(events), bad=bad, findings=findings)
