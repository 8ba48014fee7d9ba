"""Enrichment: fields the rules can use that no single event carries.

Per actor, incrementally (constant work per event): `distance_km` and `speed_kmh` from the actor's
previous successful source with a known location, `new_source` (a source the actor never used
successfully before), `off_hours` (outside the hours the actor usually works, learned from its
completed days; before enough history, outside the default working day or on a weekend), `weekend`,
`hour`, `new_action` (an action the actor never performed successfully before), `since_breakglass_s`
(seconds since the actor's last break-glass), and `subject` (the account an event is about: the
target of an account action, the actor otherwise).

Usual hours are learned only from days that are over, so today's behaviour never makes itself usual.
"""

from __future__ import annotations

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
    "weekend",
    "hour",
    "subject",
    "city",
    "country",
    "new_action",
    "since_breakglass_s",
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


class Enricher:
    """Per-actor state; `enrich` is constant work per event (a dict probe, a set probe, a lookup)."""

    def __init__(self, config: DetectionConfig, locations: Locations | None, *, timezone: str = "UTC") -> None:
        self._config = config
        self._locations = locations
        self._tz = ZoneInfo(timezone)
        self._actors: dict[str, _ActorState] = {}

    def _roll_day(self, state: _ActorState, today: date) -> None:
        if state.day is not None and state.day != today:
            if state.day.weekday() >= 5:
                state.weekend_days += 1
            else:
                state.workdays += 1
                for h in state.day_hours:
                    state.hour_days[h] += 1
            state.day_hours = set()
        if state.first_day is None:
            state.first_day = today
        state.day = today

    def _off_hours(self, state: _ActorState, local: datetime) -> bool:
        cfg = self._config
        weekend = local.weekday() >= 5
        if state.workdays < cfg.usual_hours_min_days:
            if weekend:
                return True
            return not (cfg.default_workday_start_hour <= local.hour < cfg.default_workday_end_hour)
        if weekend:
            assert state.first_day is not None
            weekends = max(1, ((local.date() - state.first_day).days // 7) * 2)
            # A weekend worker (most weekend days active) works weekends by habit.
            if state.weekend_days < cfg.usual_hours_share * weekends:
                return True
        return state.hour_days[local.hour] < cfg.usual_hours_share * state.workdays

    def enrich(self, event: ActivityEvent) -> EnrichedEvent:
        state = self._actors.get(event.actor)
        if state is None:
            state = self._actors[event.actor] = _ActorState()
        local = event.at.astimezone(self._tz)
        self._roll_day(state, local.date())
        off_hours = self._off_hours(state, local)
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
            state.actions.add(event.action)
            if event.action == "access.breakglass":
                state.breakglass_at = event.at

        fields: dict[str, Any] = event.to_dict()
        fields["at"] = event.at
        fields.update(
            distance_km=distance,
            speed_kmh=speed,
            new_source=new_source,
            off_hours=off_hours,
            weekend=local.weekday() >= 5,
            hour=local.hour,
            subject=event.record if event.action.startswith("account.") and event.record else event.actor,
            city=place.city if place else None,
            country=place.country if place else None,
            new_action=new_action,
            since_breakglass_s=since_breakglass,
        )
        return EnrichedEvent(event=event, fields=fields)
