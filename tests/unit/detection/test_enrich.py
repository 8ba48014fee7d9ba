"""Enrichment: distance and speed from the previous place, new sources, usual hours, weekends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from clearguard.detection.enrich import Enricher
from clearguard.detection.thresholds import DetectionConfig
from tests.unit.detection.support import CROYDON, LONDON, MONDAY_10, NEW_YORK, PARIS, ev, locations


def enricher(**cfg: int | float) -> Enricher:
    return Enricher(DetectionConfig(**cfg), locations())  # type: ignore[arg-type]


def test_distance_and_speed_from_the_previous_place_of_the_same_actor() -> None:
    e = enricher()
    first = e.enrich(ev(MONDAY_10, source_ip=LONDON))
    assert first.get("distance_km") is None and first.get("speed_kmh") is None
    assert first.get("city") == "London"
    other = e.enrich(ev(MONDAY_10 + timedelta(minutes=10), "officer-9", source_ip=NEW_YORK))
    assert other.get("distance_km") is None  # another actor's history
    paris = e.enrich(ev(MONDAY_10 + timedelta(minutes=30), source_ip=PARIS))
    assert paris.get("distance_km") == pytest.approx(344, abs=2)
    assert paris.get("speed_kmh") == pytest.approx(688, abs=4)
    back = e.enrich(ev(MONDAY_10 + timedelta(minutes=30), source_ip=LONDON))  # same second: floor of 1 s
    assert back.get("speed_kmh") == pytest.approx(344 * 3600, rel=0.01)
    near = e.enrich(ev(MONDAY_10 + timedelta(hours=1), source_ip=CROYDON))
    assert near.get("distance_km") == pytest.approx(15, abs=2) and near.get("country") == "GB"


def test_unknown_places_give_no_distance_and_keep_the_last_known_place() -> None:
    e = enricher()
    e.enrich(ev(MONDAY_10, source_ip=LONDON))
    unknown = e.enrich(ev(MONDAY_10 + timedelta(minutes=5), source_ip="192.0.2.1"))
    assert unknown.get("distance_km") is None and unknown.get("city") is None
    later = e.enrich(ev(MONDAY_10 + timedelta(minutes=30), source_ip=PARIS))
    assert later.get("distance_km") == pytest.approx(344, abs=2)  # measured from London


def test_new_source_and_new_action() -> None:
    e = enricher()
    assert e.enrich(ev(MONDAY_10, source_ip=LONDON)).get("new_source") is False  # no history yet
    assert e.enrich(ev(MONDAY_10, source_ip=LONDON)).get("new_source") is False
    failed = e.enrich(ev(MONDAY_10, "officer-1", "auth.login", outcome="failure", source_ip=PARIS))
    assert failed.get("new_source") is True
    # a failure does not make its source familiar
    assert e.enrich(ev(MONDAY_10, source_ip=PARIS)).get("new_source") is True
    assert e.enrich(ev(MONDAY_10, source_ip=PARIS)).get("new_source") is False
    assert e.enrich(ev(MONDAY_10, action="declaration.export")).get("new_action") is True
    assert e.enrich(ev(MONDAY_10, action="declaration.export")).get("new_action") is False


def test_off_hours_before_history_is_the_default_working_day() -> None:
    e = enricher()
    assert e.enrich(ev(MONDAY_10.replace(hour=7))).get("off_hours") is False
    assert e.enrich(ev(MONDAY_10.replace(hour=18, minute=59))).get("off_hours") is False
    assert e.enrich(ev(MONDAY_10.replace(hour=19))).get("off_hours") is True
    assert e.enrich(ev(MONDAY_10.replace(hour=23))).get("off_hours") is True
    saturday = e.enrich(ev(MONDAY_10 + timedelta(days=5)))
    assert saturday.get("weekend") is True and saturday.get("off_hours") is True


def test_usual_hours_are_learned_from_completed_days() -> None:
    e = enricher(usual_hours_min_days=5)
    # a night-shift officer: 22:00-23:00 on ten working days
    day = MONDAY_10.replace(hour=22)
    worked = 0
    while worked < 10:
        if day.weekday() < 5:
            e.enrich(ev(day, "night-1"))
            e.enrich(ev(day + timedelta(minutes=70), "night-1"))
            worked += 1
        day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    assert e.enrich(ev(day.replace(hour=22, minute=30), "night-1")).get("off_hours") is False
    assert e.enrich(ev(day.replace(hour=23, minute=30), "night-1")).get("off_hours") is False
    # 10:00 is outside this officer's hours, though inside the default working day
    assert e.enrich(ev(day.replace(hour=10, minute=0) + timedelta(days=1), "night-1")).get("off_hours") is True


def test_the_day_in_progress_does_not_make_itself_usual() -> None:
    e = enricher(usual_hours_min_days=1)
    e.enrich(ev(MONDAY_10, "officer-3"))
    tuesday_3am = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
    for minute in range(0, 60, 5):
        assert e.enrich(ev(tuesday_3am + timedelta(minutes=minute), "officer-3")).get("off_hours") is True


def test_timezone_moves_the_working_day() -> None:
    e = Enricher(DetectionConfig(), locations(), timezone="America/New_York")
    at = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)  # 08:00 in New York
    assert e.enrich(ev(at)).get("hour") == 8
    assert e.enrich(ev(at.replace(hour=11))).get("off_hours") is True  # 06:00 in New York


def test_hours_outside_the_usual_ones() -> None:
    e = enricher()
    monday = MONDAY_10.replace(hour=0)
    assert e.enrich(ev(monday.replace(hour=12))).get("off_hours_h") == 0
    assert e.enrich(ev(monday.replace(hour=19, minute=30))).get("off_hours_h") == pytest.approx(0.5)
    at_end = e.enrich(ev(monday.replace(hour=19)))
    assert at_end.get("off_hours") is True and at_end.get("off_hours_h") == 0
    assert e.enrich(ev(monday.replace(hour=3))).get("off_hours_h") == pytest.approx(4)
    assert e.enrich(ev(monday + timedelta(days=5, hours=12))).get("off_hours_h") == 24  # Saturday


def test_exports_today_against_the_busiest_day_and_the_role() -> None:
    e = enricher()
    first = e.enrich(ev(MONDAY_10, "analyst-1", "declaration.export", role="risk_analyst", count=400))
    assert first.get("exported_today") == 400 and first.get("export_growth") == 400  # no history: over 1
    tuesday = MONDAY_10 + timedelta(days=1)
    e.enrich(ev(tuesday, "analyst-2", "declaration.export", role="risk_analyst", count=100))
    second = e.enrich(ev(tuesday, "analyst-1", "declaration.export", role="risk_analyst", count=800))
    assert second.get("exported_today") == 800 and second.get("export_growth") == pytest.approx(2.0)
    wednesday = MONDAY_10 + timedelta(days=2)
    # analyst-2's own busiest day is 100, but its role's ordinary busiest day is the median of the
    # role's completed busiest days (analyst-1: 400, its Tuesday not over for it yet; analyst-2: 100)
    newcomer = e.enrich(ev(wednesday, "analyst-2", "declaration.export", role="risk_analyst", count=900))
    assert newcomer.get("export_growth") == pytest.approx(900 / 250)
    failed = e.enrich(ev(wednesday, "analyst-2", "declaration.export", role="risk_analyst", outcome="denied"))
    assert failed.get("exported_today") == 900
