"""Hand-built activity for the detection tests: events, a small locations table, a detector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from clearguard.detection.engine import Detector, Finding
from clearguard.detection.events import ActivityEvent
from clearguard.detection.locations import Locations, parse_locations
from clearguard.detection.ruleset import RuleSet, load_rules
from clearguard.detection.thresholds import DetectionConfig

# Monday 2 March 2026, 10:00 UTC: inside the default working day.
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

LOCATIONS_CSV = """cidr,city,country,lat,lon
10.20.0.0/16,London,GB,51.5072,-0.1276
10.20.1.0/24,Croydon,GB,51.3762,-0.0982
10.30.0.0/16,Paris,FR,48.8566,2.3522
10.40.0.0/16,New York,US,40.7128,-74.0060
2001:db8::/32,Rotterdam,NL,51.9244,4.4777
"""
LONDON, CROYDON, PARIS, NEW_YORK = "10.20.9.9", "10.20.1.15", "10.30.0.7", "10.40.0.8"

_RULES: dict[str, RuleSet] = {}


def locations() -> Locations:
    return parse_locations(LOCATIONS_CSV)


def ev(at: datetime, actor: str = "officer-1", action: str = "declaration.read", **kw: Any) -> ActivityEvent:
    values: dict[str, Any] = {
        "role": "officer",
        "office": "GB000060",
        "outcome": "success",
        "source_ip": LONDON,
        "user_agent": "Mozilla/5.0",
        "record": None,
        "party": None,
        "count": 1,
    }
    values.update(kw)
    return ActivityEvent(at=at, actor=actor, action=action, **values)


def rules(config: DetectionConfig | None = None, extra: list[Path] | None = None) -> RuleSet:
    if config is None and not extra:
        if "default" not in _RULES:
            _RULES["default"] = load_rules(DetectionConfig())
        return _RULES["default"]
    return load_rules(config or DetectionConfig(), extra or [])


def detector(config: DetectionConfig | None = None, **kw: Any) -> Detector:
    cfg = config or DetectionConfig()
    return Detector(rules(config), config=cfg, locations=locations(), **kw)


def run(events: list[ActivityEvent], det: Detector | None = None) -> list[Finding]:
    det = det or detector()
    found: list[Finding] = []
    for e in events:
        found.extend(det.observe(e))
    return found


def alerts(findings: list[Finding], rule: str | None = None) -> list[Finding]:
    return [f for f in findings if f.level == "alert" and (rule is None or f.rule == rule)]


def notices(findings: list[Finding], rule: str | None = None) -> list[Finding]:
    return [f for f in findings if f.level == "notice" and (rule is None or f.rule == rule)]


def every(start: datetime, n: int, step_s: float) -> list[datetime]:
    return [start + timedelta(seconds=i * step_s) for i in range(n)]
