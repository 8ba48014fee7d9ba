"""Sigma correlations over the event stream: sliding windows per group-by key (pure).

`event_count` counts matching events, `value_count` distinct values of a field, `value_sum` sums a
field, `temporal` wants every referenced rule within the window in any order, `temporal_ordered` in
the listed order. Windows slide: each match drops what fell out of the window, so the work per event
is constant amortised, and idle groups are swept once per window length so memory follows activity.
A correlation fires on every event that leaves its condition true; the Detector turns a run of such
firings into one incident.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

CorrelationType = Literal["event_count", "value_count", "value_sum", "temporal", "temporal_ordered"]
Operator = Literal["gt", "gte", "eq"]
# Names kept per incident for the alert: enough to act on, bounded whatever the window holds.
_NAMED = 10


@dataclass(frozen=True)
class CorrelationSpec:
    name: str
    type: CorrelationType
    rules: tuple[str, ...]  # referenced rules, in order (temporal_ordered)
    group_by: tuple[str, ...]
    aliases: Mapping[str, Mapping[str, str]]  # group-by alias -> referenced rule -> event field
    window_s: float
    op: Operator
    count: float
    field: str | None  # value_count, value_sum

    def holds(self, value: float) -> bool:
        if self.op == "gt":
            return value > self.count
        if self.op == "gte":
            return value >= self.count
        return value == self.count

    def group_of(self, rule: str, fields: Mapping[str, Any]) -> tuple[tuple[str, str], ...] | None:
        """The group-by key of an event matched by `rule`; None when a group-by value is missing."""
        key: list[tuple[str, str]] = []
        for name in self.group_by:
            source_field = self.aliases.get(name, {}).get(rule, name)
            value = fields.get(source_field)
            if value is None:
                return None
            key.append((name, str(value)))
        return tuple(key)


@dataclass(frozen=True)
class Firing:
    spec: CorrelationSpec
    group: tuple[tuple[str, str], ...]
    first_at: datetime
    at: datetime
    value: float  # events, distinct values, sum, or steps seen
    actors: tuple[str, ...]
    sources: tuple[str, ...]


def _named(counter: Counter[str]) -> tuple[str, ...]:
    return tuple(sorted(counter)[:_NAMED])


@dataclass
class _Window:
    entries: deque[tuple[datetime, Any, str | None, str | None]] = field(default_factory=deque)
    values: Counter[Any] = field(default_factory=Counter)
    total: float = 0.0
    actors: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    last_at: datetime | None = None

    def add(self, at: datetime, value: Any, actor: str | None, source: str | None) -> None:
        self.entries.append((at, value, actor, source))
        self.last_at = at
        if value is not None:
            self.values[value] += 1
            if isinstance(value, int | float) and not isinstance(value, bool):
                self.total += value
        if actor is not None:
            self.actors[actor] += 1
        if source is not None:
            self.sources[source] += 1

    def expire(self, horizon: datetime) -> None:
        while self.entries and self.entries[0][0] < horizon:
            _, value, actor, source = self.entries.popleft()
            if value is not None:
                _drop(self.values, value)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    self.total -= value
            if actor is not None:
                _drop(self.actors, actor)
            if source is not None:
                _drop(self.sources, source)


def _drop(counter: Counter[Any], key: Any) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


@dataclass
class _Chain:
    """temporal / temporal_ordered: per step, the start of the latest partial match reaching it."""

    starts: list[datetime | None]
    last_seen: list[datetime | None]
    actors: list[frozenset[str]]
    sources: list[frozenset[str]]
    last_at: datetime | None = None


class Correlation:
    """One correlation rule's state: its groups' windows or chains."""

    def __init__(self, spec: CorrelationSpec) -> None:
        self.spec = spec
        self._window = timedelta(seconds=spec.window_s)
        self._windows: dict[tuple[tuple[str, str], ...], _Window] = {}
        self._chains: dict[tuple[tuple[str, str], ...], _Chain] = {}
        self._last_sweep: datetime | None = None

    def groups(self) -> int:
        return len(self._windows) + len(self._chains)

    def feed(self, matched: list[str], fields: Mapping[str, Any], at: datetime) -> Firing | None:
        """Feed an event matched by the referenced rules in `matched` (in any order)."""
        self._sweep(at)
        actor = fields.get("actor")
        source = fields.get("source_ip")
        if self.spec.type in ("temporal", "temporal_ordered"):
            return self._feed_chain(matched, fields, at, actor, source)
        group = self.spec.group_of(matched[0], fields)
        if group is None:
            return None
        value: Any = None
        if self.spec.field is not None:
            value = fields.get(self.spec.field)
            if value is None:
                return None
            if self.spec.type == "value_sum" and (isinstance(value, bool) or not isinstance(value, int | float)):
                return None
        window = self._windows.get(group)
        if window is None:
            window = self._windows[group] = _Window()
        window.expire(at - self._window)
        window.add(at, value, actor, source)
        if self.spec.type == "event_count":
            measure = float(len(window.entries))
        elif self.spec.type == "value_count":
            measure = float(len(window.values))
        else:
            measure = window.total
        if not self.spec.holds(measure):
            return None
        return Firing(
            spec=self.spec,
            group=group,
            first_at=window.entries[0][0],
            at=at,
            value=measure,
            actors=_named(window.actors),
            sources=_named(window.sources),
        )

    def _feed_chain(
        self, matched: list[str], fields: Mapping[str, Any], at: datetime, actor: str | None, source: str | None
    ) -> Firing | None:
        spec = self.spec
        fired: Firing | None = None
        positions = [i for i, name in enumerate(spec.rules) if name in matched]
        # Later steps first, so one event never completes two steps of the same chain.
        for i in sorted(positions, reverse=True):
            group = spec.group_of(spec.rules[i], fields)
            if group is None:
                continue
            chain = self._chains.get(group)
            if chain is None:
                n = len(spec.rules)
                chain = self._chains[group] = _Chain([None] * n, [None] * n, [frozenset()] * n, [frozenset()] * n)
            chain.last_at = at
            who = frozenset({actor}) if actor else frozenset()
            where = frozenset({source}) if source else frozenset()
            if spec.type == "temporal_ordered":
                if i == 0:
                    chain.starts[0], chain.actors[0], chain.sources[0] = at, who, where
                else:
                    start = chain.starts[i - 1]
                    if start is None or at - start > self._window:
                        continue
                    chain.starts[i] = start
                    chain.actors[i] = chain.actors[i - 1] | who
                    chain.sources[i] = chain.sources[i - 1] | where
                if i == len(spec.rules) - 1 and chain.starts[i] is not None:
                    first = chain.starts[i]
                    assert first is not None
                    fired = Firing(
                        spec,
                        group,
                        first,
                        at,
                        float(len(spec.rules)),
                        tuple(sorted(chain.actors[i]))[:_NAMED],
                        tuple(sorted(chain.sources[i]))[:_NAMED],
                    )
            else:
                chain.last_seen[i], chain.actors[i], chain.sources[i] = at, who, where
                seen = [t for t in chain.last_seen if t is not None]
                if len(seen) == len(spec.rules) and at - min(seen) <= self._window:
                    fired = Firing(
                        spec,
                        group,
                        min(seen),
                        at,
                        float(len(spec.rules)),
                        tuple(sorted(frozenset().union(*chain.actors)))[:_NAMED],
                        tuple(sorted(frozenset().union(*chain.sources)))[:_NAMED],
                    )
        return fired

    def _sweep(self, now: datetime) -> None:
        if self._last_sweep is not None and now - self._last_sweep < self._window:
            return
        self._last_sweep = now
        horizon = now - self._window
        for key in [k for k, w in self._windows.items() if w.last_at is None or w.last_at < horizon]:
            del self._windows[key]
        for key in [k for k, c in self._chains.items() if c.last_at is None or c.last_at < horizon]:
            del self._chains[key]
