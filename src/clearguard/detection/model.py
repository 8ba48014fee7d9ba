"""The anomaly model: each actor's day, as it happens, against its own history and its role's.

Features per actor-day (`FEATURES`) count what the actor did, never who it is: volumes by action,
distinct parties, records and sources, sources it never used before, the spread of its hours,
events outside its usual hours, exports and exported records, failures, denials, break-glass, and
seven-day sums of the volumes that a slow leak raises a little every day. They are log-scaled.

How unusual a value is comes in two steps. Its deviation from the actor's own median day (the
baseline days; the role's median for an actor without enough history) is measured against how far
actors of the same role deviate from their own medians on ordinary days: `excess` is how many
spreads beyond the role's 99.5th percentile deviation it lies. So a first export is ordinary for an
officer if officers export now and then, and a tenfold day is unusual even for a busy actor. An
IsolationForest per role, trained on the baseline days' excess vectors, judges the combination; a
day becomes a finding when its largest excess and its forest score both pass what the role's
baseline days reached, plus margins. The features with the largest excess are named.

Scoring runs on each event, over the day so far: counts only grow during a day, so a short attack
crosses the line on the event that makes it unusual, not at midnight. One finding per actor-day.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt
from sklearn.ensemble import IsolationForest

from clearguard.detection.engine import ActivityEvent, EnrichedEvent, Finding

FEATURES: tuple[str, ...] = (
    "reads",
    "lists",
    "listed_records",
    "exports",
    "exported_records",
    "writes",
    "account_changes",
    "distinct_parties",
    "distinct_records",
    "distinct_sources",
    "new_sources",
    "hour_spread",
    "off_hours_events",
    "failures",
    "denied",
    "breakglass",
    "reads_7d_median",
    "distinct_records_7d_median",
    "export_days_14d",
)
F = len(FEATURES)
IX = {name: i for i, name in enumerate(FEATURES)}
# the daily features that the seven-day sums add up
WEEKLY = tuple((IX[f"{name}_7d_median"], IX[name]) for name in ("reads", "distinct_records"))
EXPORT_DAYS = IX["export_days_14d"]
WEEKLY_IX = [weekly for weekly, _daily in WEEKLY]
DAILY_IX = [daily for _weekly, daily in WEEKLY]
MIN_WEEK_DAYS = 4  # active days in the last seven before their median means anything
WRITES = frozenset({"declaration.lodge", "declaration.amend", "declaration.decide", "risk.override"})
DATA = frozenset({"declaration.read", "declaration.list", "declaration.export"}) | WRITES
CHANGES = frozenset({"account.create", "account.role_change", "account.disable", "key.operation"})
Vector = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ModelConfig:
    min_own_days: int = 5  # baseline days an actor needs before its own median counts
    # a role with fewer baseline days than this also takes the ordinary deviations of all roles
    # together as its own, where larger: a few DPOs' fortnight says little about rare events
    min_peer_days: int = 300
    peer_quantile: float = 0.995  # the role's ordinary deviation ends here
    # smallest spread per feature, in log units: below it a deviation is noise whatever the data say
    floor: float = 0.35
    weekly_floor: float = 0.15
    gate_margin: float = 1.5  # excess beyond the largest the role's baseline days reached
    # the forest must also find the day's combination of deviations rarer than this share of baseline days
    forest_quantile: float = 0.95
    # so many days with an export are ordinary unless their probability is below 10**-this
    export_days_surprise: float = 3.0
    usual_hour_share: float = 0.2  # an hour is usual when the actor was active in it on this share of days
    trees: int = 100
    seed: int = 0


@dataclass
class _Day:
    day: date
    counts: Vector = field(default_factory=lambda: np.zeros(F))
    parties: set[str] = field(default_factory=set)
    records: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    new_sources: set[str] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None
    alerted: bool = False
    weekly: Vector = field(default_factory=lambda: np.full(len(WEEKLY), np.nan))  # nan: too few days
    recent_days: int = 0  # active days in the previous fourteen
    recent_export_days: int = 0  # ...on which it exported


@dataclass
class _Actor:
    name: str
    role: str
    day: _Day | None = None
    past: deque[tuple[date, Vector]] = field(default_factory=lambda: deque(maxlen=13))
    known_sources: set[str] = field(default_factory=set)


@dataclass
class _Profile:
    """What the baseline says about one actor (its own median) or a role (its peers)."""

    median: Vector


@dataclass
class _Role:
    median: Vector
    high: Vector  # the peer quantile of deviations from one's own median
    spread: Vector
    gate: float
    forest: IsolationForest
    forest_gate: float


def _log(v: Vector) -> Vector:
    return np.log1p(np.maximum(v, 0.0))


class ActivityModel:
    """Scorer: `fit` on the baseline days' events, then `observe` each enriched event."""

    rule = "model.activity_anomaly"

    def __init__(self, config: ModelConfig | None = None) -> None:
        self.config = config or ModelConfig()
        self._actors: dict[str, _Actor] = {}
        self._own: dict[str, _Profile] = {}
        self._roles: dict[str, _Role] = {}
        self._own_hours: dict[str, frozenset[int]] = {}
        self._export_rate: dict[str, float] = {}
        self._role_export_rate: dict[str, float] = {}
        self._role_of: dict[str, str] = {}
        self._medians: dict[str, Vector] = {}
        self._role_hours: dict[str, frozenset[int]] = {}
        self._floors = np.full(F, self.config.floor)
        for weekly, _daily in WEEKLY:
            self._floors[weekly] = self.config.weekly_floor

    # accumulating days -------------------------------------------------------------------------------
    def _hours_of(self, actor: str, role: str) -> frozenset[int] | None:
        own = self._own_hours.get(actor)
        return own if own is not None else self._role_hours.get(role)

    def _add(self, state: _Actor, actor: str, event: ActivityEvent) -> _Day:
        today = event.at.date()
        day = state.day
        if day is None or day.day != today:
            if day is not None:
                state.past.append((day.day, self._vector(state, day, weekly=False)))
                state.known_sources |= day.sources
            day = state.day = _Day(today)
            # the median over the active days of the previous seven: a leak that adds a little every
            # day lifts it; one busy day (or one attack) does not, and does not linger in it
            week_start = today - timedelta(days=7)
            recent = [p[DAILY_IX] for d, p in state.past if d >= week_start]
            if len(recent) >= MIN_WEEK_DAYS:
                day.weekly = np.median(np.vstack(recent), axis=0)
            # export days over two weeks: a leak that exports most days is improbable, a busy week is not
            fortnight = [p for d, p in state.past if d >= today - timedelta(days=14)]
            day.recent_days = len(fortnight)
            day.recent_export_days = sum(1 for p in fortnight if p[IX["exports"]] > 0)
        c = day.counts
        action, outcome = event.action, event.outcome
        if outcome == "success":
            if action == "declaration.read":
                c[IX["reads"]] += 1
            elif action == "declaration.list":
                c[IX["lists"]] += 1
                c[IX["listed_records"]] += event.count
            elif action == "declaration.export":
                c[IX["exports"]] += 1
                c[IX["exported_records"]] += event.count
            elif action in WRITES:
                c[IX["writes"]] += 1
            elif action in CHANGES:
                c[IX["account_changes"]] += 1
            elif action == "access.breakglass":
                c[IX["breakglass"]] += 1
            if event.source_ip is not None:
                day.sources.add(event.source_ip)
                if state.known_sources and event.source_ip not in state.known_sources:
                    day.new_sources.add(event.source_ip)
            if action.startswith("declaration.") or action == "risk.override":
                if event.party is not None:
                    day.parties.add(event.party)
                if event.record is not None:
                    day.records.add(event.record)
            if action in DATA:
                hours = self._hours_of(actor, state.role)
                if hours is not None and event.at.hour not in hours:
                    c[IX["off_hours_events"]] += 1
        elif outcome == "failure":
            c[IX["failures"]] += 1
        else:
            c[IX["denied"]] += 1
        if day.first is None:
            day.first = event.at
        day.last = event.at
        return day

    def _vector(self, state: _Actor, day: _Day, *, weekly: bool = True) -> Vector:
        v = day.counts.copy()
        v[IX["distinct_parties"]] = len(day.parties)
        v[IX["distinct_records"]] = len(day.records)
        v[IX["distinct_sources"]] = len(day.sources)
        v[IX["new_sources"]] = len(day.new_sources)
        if day.first is not None and day.last is not None:
            v[IX["hour_spread"]] = (day.last - day.first).total_seconds() / 3600.0
        if weekly:
            for weekly_ix, value in zip(WEEKLY_IX, day.weekly, strict=True):
                v[weekly_ix] = value
            v[EXPORT_DAYS] = self._export_surprise(state, day.recent_export_days + (v[IX["exports"]] > 0),
                                                   day.recent_days + 1)  # fmt: skip
        return v

    def _export_surprise(self, state: _Actor, exporting: int, days: int) -> float:
        """How improbable so many days with an export are among the last active days, for an actor
        that exports on a share p of its days (its own share or its role's, whichever is larger):
        -log10 of the binomial tail. A steady leak exports on most days; a role that exports often
        needs more such days to stand out."""
        if exporting == 0 or days < MIN_WEEK_DAYS:
            return 0.0
        p = max(self._export_rate.get(state.name, 0.0), self._role_export_rate.get(state.role, 0.05))
        p = min(p, 0.95)
        tail = sum(math.comb(days, i) * p**i * (1 - p) ** (days - i) for i in range(exporting, days + 1))
        return -math.log10(max(tail, 1e-12))

    # fitting ---------------------------------------------------------------------------------------
    def fit(self, events: Iterable[ActivityEvent]) -> ActivityModel:
        """Learn each actor's and each role's ordinary days from the baseline events (in time order)."""
        cfg = self.config
        baseline = list(events)
        self._actors, self._own, self._roles = {}, {}, {}
        # first the usual hours, which the off-hours feature of every baseline day needs
        hours: dict[str, dict[date, set[int]]] = defaultdict(dict)
        roles: dict[str, str] = {}
        active: dict[str, set[date]] = defaultdict(set)
        exporting: dict[str, set[date]] = defaultdict(set)
        for event in baseline:
            roles.setdefault(event.actor, event.role)
            active[event.actor].add(event.at.date())
            if event.action in DATA and event.outcome == "success":
                hours[event.actor].setdefault(event.at.date(), set()).add(event.at.hour)
                if event.action == "declaration.export":
                    exporting[event.actor].add(event.at.date())
        # shares of days with an export; the role's (smoothed) is the floor of an actor's
        self._export_rate = {a: len(exporting[a]) / len(d) for a, d in active.items()}
        role_days: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for actor, days_active in active.items():
            role_days[roles[actor]][0] += len(exporting[actor])
            role_days[roles[actor]][1] += len(days_active)
        self._role_export_rate = {r: (e + 1) / (n + 2) for r, (e, n) in role_days.items()}
        self._own_hours = {a: _usual_hours(list(h.values()), cfg.usual_hour_share) for a, h in hours.items()
                           if len(h) >= cfg.min_own_days}  # fmt: skip
        by_role: dict[str, list[str]] = defaultdict(list)
        for actor, role in roles.items():
            by_role[role].append(actor)
        self._role_hours = {role: _usual_hours([d for a in actors for d in hours.get(a, {}).values()],
                                               cfg.usual_hour_share) for role, actors in by_role.items()}  # fmt: skip
        days: dict[str, list[Vector]] = defaultdict(list)
        for event in baseline:
            state = self._actors.get(event.actor)
            if state is None:
                state = self._actors[event.actor] = _Actor(event.actor, event.role)
            previous = state.day
            if previous is not None and previous.day != event.at.date():
                days[event.actor].append(self._vector(state, previous))
            self._add(state, event.actor, event)
        for actor, state in self._actors.items():
            if state.day is not None:
                days[actor].append(self._vector(state, state.day))

        logged = {actor: _log(np.array(v)) for actor, v in days.items()}
        for actor, matrix in logged.items():
            if len(matrix) >= cfg.min_own_days:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # a weekly column with no full week yet
                    self._own[actor] = _Profile(np.nanmedian(matrix, axis=0))
        self._role_of = roles
        # an actor without enough history of its own is compared with a busy peer's day (the role's
        # upper quartile), not a typical one: it may well be a busy actor
        self._medians = {role: np.nanquantile(np.vstack([logged[a] for a in actors if a in logged and len(logged[a])]),
                                              0.75, axis=0)
                         for role, actors in by_role.items() if any(a in logged and len(logged[a]) for a in actors)}
        pooled = self._deviations(list(roles), logged)
        for role, actors in by_role.items():
            self._fit_role(role, actors, logged, pooled)
        # the replay after the baseline starts from the baseline's state: known sources, the last days
        for state in self._actors.values():
            if state.day is not None:
                state.past.append((state.day.day, self._vector(state, state.day, weekly=False)))
                state.known_sources |= state.day.sources
                state.day = None
        return self

    def _deviations(self, actors: list[str], logged: dict[str, Vector]) -> Vector:
        rows = []
        for actor in actors:
            matrix = logged.get(actor)
            if matrix is None or not len(matrix):
                continue
            own = self._own.get(actor)
            rows.append(_deviation(matrix, own.median if own is not None else self._medians[self._role_of[actor]]))
        return np.vstack(rows) if rows else np.zeros((0, F))

    def _fit_role(self, role: str, actors: list[str], logged: dict[str, Vector], pooled: Vector) -> None:
        cfg = self.config
        deviations = self._deviations(actors, logged)
        if not len(deviations):
            return
        # a recent median is nan on the first baseline days: those days say nothing about it
        high = _nanquantile(deviations, cfg.peer_quantile)
        middle = _nanquantile(deviations, 0.5)
        if len(deviations) < cfg.min_peer_days:
            high = np.maximum(high, _nanquantile(pooled, cfg.peer_quantile))
        # the spread of the days on which something happened: for a rare action (exports) the
        # distance between "none" and "some" says nothing about how much is a lot
        spread = np.maximum(np.minimum((high - middle) / 2.576, _active_spread(deviations)), self._floors)
        high[EXPORT_DAYS], spread[EXPORT_DAYS] = cfg.export_days_surprise, 1.0
        deviations = np.nan_to_num(deviations, nan=0.0)
        excess = np.clip((deviations - high) / spread, -3.0, 12.0)
        gates = excess.max(axis=1)
        # the forest sees only what lies beyond the ordinary (a partial day's low counts are not news)
        beyond = np.maximum(excess, 0.0)
        forest = IsolationForest(n_estimators=cfg.trees, random_state=cfg.seed).fit(beyond)
        scores = -forest.score_samples(beyond)
        self._roles[role] = _Role(
            median=self._medians[role], high=high, spread=spread, gate=float(gates.max()) + cfg.gate_margin,
            forest=forest, forest_gate=float(np.quantile(scores, cfg.forest_quantile)),
        )  # fmt: skip

    # scoring ---------------------------------------------------------------------------------------
    def deviation(self, actor: str, peers: _Role, vector: Vector) -> Vector:
        """A day's features against the actor's own median day (its role's, without enough history)."""
        own = self._own.get(actor)
        return np.nan_to_num(_deviation(_log(vector), own.median if own is not None else peers.median), nan=0.0)

    @staticmethod
    def excess(peers: _Role, deviation: Vector) -> Vector:
        """How far beyond its role's ordinary deviation each feature lies, in spreads."""
        return np.clip((deviation - peers.high) / peers.spread, -3.0, 12.0)

    def observe(self, event: EnrichedEvent) -> list[Finding]:
        raw = event.event
        state = self._actors.get(raw.actor)
        if state is None:
            state = self._actors[raw.actor] = _Actor(raw.actor, raw.role)
        day = self._add(state, raw.actor, raw)
        if day.alerted or raw.action == "auth.refresh":
            return []
        peers = self._roles.get(state.role)
        if peers is None:
            return []
        vector = self._vector(state, day)
        deviation = self.deviation(raw.actor, peers, vector)
        excess = self.excess(peers, deviation)
        top = float(excess.max())
        if top < peers.gate:
            return []
        score = float(-peers.forest.score_samples(np.maximum(excess, 0.0).reshape(1, -1))[0])
        if score < peers.forest_gate:
            return []
        day.alerted = True
        return [self._finding(raw, state, day, vector, excess, top, peers)]

    def _finding(self, raw: ActivityEvent, state: _Actor, day: _Day, vector: Vector, excess: Vector,
                 top: float, peers: _Role) -> Finding:  # fmt: skip
        order = [i for i in np.argsort(-excess)[:3] if excess[i] > 0]
        named = {FEATURES[i]: float(vector[i]) for i in order}
        own = self._own.get(raw.actor)
        base = np.expm1(own.median if own is not None else peers.median)
        parts = ", ".join(f"{FEATURES[i]} {vector[i]:.0f} (usually {base[i]:.0f})" for i in order)
        severity = "high" if top >= 2 * peers.gate else "medium"
        assert day.first is not None
        return Finding(
            rule=self.rule, kind="anomaly", level="alert", severity=severity, actors=(raw.actor,),
            sources=tuple(sorted(day.sources | ({raw.source_ip} if raw.source_ip else set()))),
            first_at=day.first, at=raw.at, incident=f"{self.rule}|actor={raw.actor}|day={day.day.isoformat()}",
            explanation=f"{raw.actor} ({state.role}): a day unusual for it and its role so far: {parts}",
            features=named,
        )  # fmt: skip


def _deviation(logged: Vector, base: Vector) -> Vector:
    """log features minus the base day's; a recent median is compared with the base's median day
    (the same quantity: a typical day), and is nan while there were too few recent days."""
    deviation = logged - base
    deviation[..., WEEKLY_IX] = logged[..., WEEKLY_IX] - base[DAILY_IX]
    # export days are already a surprise (-log10 of a probability), judged on their own scale
    deviation[..., EXPORT_DAYS] = np.expm1(logged[..., EXPORT_DAYS])
    return deviation


def _active_spread(rows: Vector) -> Vector:
    """Per column, the robust spread (1.4826 MAD) of the non-zero deviations; inf when too few."""
    out = np.full(rows.shape[1], np.inf)
    for j in range(rows.shape[1]):
        column = rows[:, j]
        active = column[~np.isnan(column) & (column != 0.0)]
        if len(active) >= 10:
            out[j] = 1.4826 * float(np.median(np.abs(active - np.median(active))))
    return out


def _nanquantile(rows: Vector, q: float) -> Vector:
    """Per column, ignoring nan; 0 for a column with nothing known."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nan_to_num(np.nanquantile(rows, q, axis=0), nan=0.0)


def _usual_hours(days: list[set[int]], share: float) -> frozenset[int]:
    """Hours active on at least `share` of the active days, widened by an hour either side."""
    if not days:
        return frozenset(range(24))
    counts = [0] * 24
    for hours in days:
        for h in hours:
            counts[h] += 1
    core = {h for h in range(24) if counts[h] >= share * len(days)}
    return frozenset(x % 24 for h in core for x in (h - 1, h, h + 1))
