"""Enrichment: fields the rules can use that no single event carries.

Per actor, incrementally (constant work per event): `distance_km` and `speed_kmh` from the actor's
previous successful source with a known location, `new_source` (a source the actor never used
successfully before), `off_hours` (outside the hours the actor usually works, learned from its
completed days; before enough history, outside the default working day or on a weekend) and
`off_hours_h` (how many hours outside them; 24 on a day the actor does not work), `weekend`,
`hour`, `new_action` (an action the actor never performed successfully before), `since_breakglass_s`
(seconds since the actor's last break-glass), `exported_today` (records the actor exported today) and
`export_growth` (that, over the most it exported in any earlier day, or over its role's ordinary
busiest day if more: a thin history is no baseline), and `subject` (the account an event is about: the
target of an account action, the actor otherwise).

Usual hours are learned only from days that are over, so today's behaviour never makes itself usual.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from clearguard.detection.events import ActivityEvent
from clearguard.detection.locations import Locations, Place, haversine_km
from clearguard.detection.thresholds import DetectionConfig

ENRICHED_FIELDS: tuple[str, ...] = (
    "distance_km",
    "speed_kmh",
    "new_source",
    "off_hours",
    "off_hours_h",
    "weekend",
    "hour",
    "subject",
    "city",
    "country",
    "new_action",
    "since_breakglass_s",
    "exported_today",
    "export_growth",
)
# A jump between sources seconds apart would give an unbounded speed; clock skew between the
# servers that logged the two events is a few seconds, so elapsed time counts as at least this.
_MIN_ELAPSED_S = 1.0
_MAX_SOURCES_PER_ACTOR = 10_000


@dataclass(frozen=True, slots=True)
class EnrichedEvent:
    event: ActivityEvent
    fields: Mapping[str, Any]  # the event's own fields and the enrichment, by name, for the matcher

    @property
    def at(self) -> datetime:
        return self.event.at

    @property
    def actor(self) -> str:
        return self.event.actor

    def get(self, name: str) -> Any:
        return self.fields.get(name)


@dataclass(slots=True)
class _ActorState:
    last_place: Place | None = None
    last_place_at: datetime | None = None
    last_ip: str | None = None
    sources: set[str] = field(default_factory=set)
    day: date | None = None
    day_hours: set[int] = field(default_factory=set)
    hour_days: list[int] = field(default_factory=lambda: [0] * 24)
    workdays: int = 0  # completed working days with activity
    weekend_days: int = 0  # completed weekend days with activity
    first_day: date | None = None
    actions: set[str] = field(default_factory=set)  # actions that succeeded before
    breakglass_at: datetime | None = None
    exported_today: int = 0  # records exported so far today
    export_max_day: int = 0  # the most records exported in one completed day


class Enricher:
    """Per-actor state; `enrich` is constant work per event (a dict probe, a set probe, a lookup)."""

    def __init__(self, config: DetectionConfig, locations: Locations | None, *, timezone: str = "UTC") -> None:
        self._config = config
        self._locations = locations
        self._tz = ZoneInfo(timezone)
        self._actors: dict[str, _ActorState] = {}
        self._peer_busiest_days: dict[str, dict[str, int]] = {}  # role -> account -> busiest export day
        self._peer_median: dict[str, float] = {}

    def _peer_busiest(self, role: str) -> float:
        """The median of the busiest export days of the role's accounts that export at all: what
        is ordinary for the role, which one account's outlier does not move."""
        cached = self._peer_median.get(role)
        if cached is None:
            days = sorted(v for v in self._peer_busiest_days.get(role, {}).values() if v > 0)
            cached = float(statistics.median(days)) if days else 0.0
            self._peer_median[role] = cached
        return cached

    def _roll_day(self, state: _ActorState, today: date, actor: str, role: str) -> None:
        if state.day is not None and state.day != today:
            if state.day.weekday() >= 5:
                state.weekend_days += 1
            else:
                state.workdays += 1
                for h in state.day_hours:
                    state.hour_days[h] += 1
            state.day_hours = set()
            if state.exported_today > state.export_max_day:
                state.export_max_day = state.exported_today
                self._peer_busiest_days.setdefault(role, {})[actor] = state.export_max_day
                self._peer_median.pop(role, None)
            state.exported_today = 0
        if state.first_day is None:
            state.first_day = today
        state.day = today

    def _off_hours(self, state: _ActorState, local: datetime) -> tuple[bool, float]:
        """Whether `local` lies outside the actor's usual hours, and by how many hours (24 on a day
        it does not work: a weekend, for an account that does not work weekends)."""
        cfg = self._config
        weekend = local.weekday() >= 5
        at = local.hour + local.minute / 60
        if state.workdays < cfg.usual_hours_min_days:
            if weekend:
                return True, 24.0
            start, end = cfg.default_workday_start_hour, cfg.default_workday_end_hour
            if start <= at < end:
                return False, 0.0
            return True, min((start - at) % 24, (at - end) % 24)
        if weekend:
            assert state.first_day is not None
            weekends = max(1, ((local.date() - state.first_day).days // 7) * 2)
            # A weekend worker (active on a fair share of weekend days) works weekends by habit.
            if state.weekend_days < cfg.usual_hours_share * weekends:
                return True, 24.0
        least = cfg.usual_hours_share * state.workdays
        if state.hour_days[local.hour] >= least:
            return False, 0.0
        # Distance to the nearest usual hour (its start or its end), around the clock.
        margin = 24.0
        for h in range(24):
            if state.hour_days[h] >= least:
                margin = min(margin, (h - at) % 24, (at - h - 1) % 24)
        return True, margin

    def enrich(self, event: ActivityEvent) -> EnrichedEvent:
        state = self._actors.get(event.actor)
        if state is None:
            state = self._actors[event.actor] = _ActorState()
        local = event.at.astimezone(self._tz)
        self._roll_day(state, local.date(), event.actor, event.role)
        off_hours, off_hours_h = self._off_hours(state, local)
        state.day_hours.add(local.hour)

        place = self._locations.lookup(event.source_ip) if self._locations is not None else None
        distance: float | None = None
        speed: float | None = None
        if place is not None and state.last_place is not None and state.last_place_at is not None:
            distance = haversine_km(state.last_place, place)
            elapsed = max((event.at - state.last_place_at).total_seconds(), _MIN_ELAPSED_S)
            speed = distance / (elapsed / 3600.0)
        ip = event.source_ip
        new_source = bool(ip is not None and state.sources and ip not in state.sources)
        if event.outcome == "success" and ip is not None:
            # Only a source that got in is the actor's: an attacker's failures must neither move
            # the actor nor make the attacker's address familiar.
            if len(state.sources) < _MAX_SOURCES_PER_ACTOR:
                state.sources.add(ip)
            if place is not None:
                state.last_place, state.last_place_at = place, event.at
            state.last_ip = ip

        new_action = bool(state.actions) and event.outcome == "success" and event.action not in state.actions
        since_breakglass = (event.at - state.breakglass_at).total_seconds() if state.breakglass_at else None
        if event.outcome == "success":
            if event.action == "declaration.export":
                state.exported_today += event.count
            state.actions.add(event.action)
            if event.action == "access.breakglass":
                state.breakglass_at = event.at

        fields: dict[str, Any] = {
            "at": event.at,
            "actor": event.actor,
            "role": event.role,
            "office": event.office,
            "action": event.action,
            "outcome": event.outcome,
            "source_ip": ip,
            "user_agent": event.user_agent,
            "record": event.record,
            "party": event.party,
            "count": event.count,
            "distance_km": distance,
            "speed_kmh": speed,
            "new_source": new_source,
            "off_hours": off_hours,
            "off_hours_h": off_hours_h,
            "weekend": local.weekday() >= 5,
            "hour": local.hour,
            "subject": event.record if event.action.startswith("account.") and event.record else event.actor,
            "city": place.city if place else None,
            "country": place.country if place else None,
            "new_action": new_action,
            "since_breakglass_s": since_breakglass,
            "exported_today": state.exported_today,
            "export_growth": state.exported_today / max(state.export_max_day, self._peer_busiest(event.role), 1.0),
        }
        return EnrichedEvent(event=event, fields=fields)
