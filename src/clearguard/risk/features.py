"""Features of a risk record and its history: one implementation for training and scoring.

Both paths reduce the history to the same aggregates per record (counts, hits, first day seen per
party and per HS6, unit-value moments per HS6, global counts) and pass them to one function,
`assemble`, that turns aggregates into the feature matrix. Only the aggregation differs:

- training (`expanding_aggregates`, vectorised): for each line, the history lines of strictly earlier
  dates, so no line sees its own outcome or any outcome of its own day or later (no leakage);
- scoring (`Snapshot.aggregates`, a few dict look-ups): totals over the history that the model was
  trained with, which all precedes the declarations scored after training.

Counts and ages are expressed so that they mean the same early in the training history and at scoring
time, when the history is a year or more: a key's count as a share of all history lines, and the days
since a party was first seen capped at NEWNESS_CAP_DAYS. Raw counts and ages grow with the history and
taught the model a time trend instead of risk (valid.csv: AUC 0.868 with raw counts, 0.88-0.89 with
these forms).

Party history uses opaque trader ids only; no attribute of a natural person is a feature.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from clearguard.risk.record import RiskRecord

Array = npt.NDArray[np.float64]

CATEGORICAL = ("office", "procedure", "transport_mode", "origin_country", "departure_country", "tax_type")
HISTORY_KEYS = ("declarant", "importer", "seller", "hs6", "hs6_origin")
NEWNESS_KEYS = ("declarant", "importer", "seller")
# Pseudo-count pulling a key's hit rate towards the global rate: a declarant with 2 lines and 2 hits
# is not a sure thing.
SMOOTHING = 10.0
# Variance floor for the unit-value z-score (log scale), so one-price HS6 codes do not explode.
UV_VAR_FLOOR = 0.01
# "New" party: first seen less than this many days before the line.
NEWNESS_CAP_DAYS = 60.0
# Counts are given per thousand history lines.
PER_MILLE = 1000.0

FEATURE_NAMES: tuple[str, ...] = (
    *CATEGORICAL,
    "hs_chapter",
    "hs_heading",
    "tax_rate",
    "log_net_mass",
    "log_item_price",
    "log_unit_value",
    "log_duty",
    "unit_value_z",
    "unit_value_history_share",
    *(f"{key}_{what}" for key in HISTORY_KEYS for what in ("history_share", "hit_rate")),
    *(f"{key}_days_known" for key in NEWNESS_KEYS),
)
CATEGORICAL_FEATURES: tuple[str, ...] = (*CATEGORICAL, "hs_chapter")
# Features computed from the item price (confidential): their values are never stored or shown.
PRICE_FEATURES: frozenset[str] = frozenset({"log_item_price", "log_unit_value", "log_duty", "unit_value_z"})

Vocabulary = dict[str, dict[str, int]]


def history_key(record: RiskRecord, key: str) -> str:
    """The value a history key groups by; "" means unknown (no history is looked up)."""
    match key:
        case "declarant":
            return record.declarant_id
        case "importer":
            return record.importer_id
        case "seller":
            return record.seller_id
        case "hs6":
            return record.hs6
        case "hs6_origin":
            return f"{record.hs6}:{record.origin_country}"
    raise KeyError(key)


def _categorical_value(record: RiskRecord, name: str) -> str:
    value: str = getattr(record, name)
    return value


def build_vocabulary(records: Sequence[RiskRecord]) -> Vocabulary:
    """Integer codes of categorical values seen in training; sorted so the codes are deterministic."""
    return {
        name: {v: i for i, v in enumerate(sorted({_categorical_value(r, name) for r in records}))}
        for name in CATEGORICAL
    }


def day_number(records: Sequence[RiskRecord]) -> Array:
    return np.array([r.date.toordinal() for r in records], dtype=np.float64)


def log_unit_value(price: Array, mass: Array) -> Array:
    return np.asarray(np.log1p(price) - np.log1p(mass), dtype=np.float64)


@dataclass(slots=True)
class Aggregates:
    """What the history says about each record, before any feature formula."""

    count: dict[str, Array]
    hits: dict[str, Array]
    first_day: dict[str, Array]  # NaN when the key was never seen
    uv_n: Array
    uv_sum: Array
    uv_sumsq: Array
    all_count: Array
    all_hits: Array


def assemble(records: Sequence[RiskRecord], agg: Aggregates, vocabulary: Vocabulary) -> Array:
    """The feature matrix (rows = records, columns = FEATURE_NAMES): the one feature implementation."""
    n = len(records)
    day = day_number(records)
    price = np.array([r.item_price for r in records], dtype=np.float64)
    mass = np.array([r.net_mass_kg for r in records], dtype=np.float64)
    rate = np.array([np.nan if r.tax_rate is None else r.tax_rate for r in records], dtype=np.float64)
    luv = log_unit_value(price, mass)
    columns: list[Array] = []
    for name in CATEGORICAL:
        codes = vocabulary[name]
        # Unseen values become NaN, which LightGBM treats as missing rather than as a wrong category.
        columns.append(np.array([codes.get(_categorical_value(r, name), np.nan) for r in records], dtype=np.float64))
    columns.append(np.array([int(r.hs6[:2]) for r in records], dtype=np.float64))
    columns.append(np.array([int(r.hs6[:4]) for r in records], dtype=np.float64))
    columns.append(rate)
    columns.append(np.log1p(mass))
    columns.append(np.log1p(price))
    columns.append(luv)
    columns.append(np.log1p(price * np.nan_to_num(rate) / 100.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        uv_mean = np.where(agg.uv_n > 0, agg.uv_sum / np.maximum(agg.uv_n, 1.0), np.nan)
        uv_var = np.where(
            agg.uv_n > 1,
            (agg.uv_sumsq - agg.uv_n * np.nan_to_num(uv_mean) ** 2) / np.maximum(agg.uv_n - 1.0, 1.0),
            np.nan,
        )
        columns.append((luv - uv_mean) / np.sqrt(np.maximum(uv_var, 0.0) + UV_VAR_FLOOR))
    history = np.maximum(agg.all_count, 1.0)
    columns.append(agg.uv_n / history * PER_MILLE)
    # Laplace-smoothed global rate of past hits: the prior every key's rate shrinks towards.
    prior = (agg.all_hits + 1.0) / (agg.all_count + 2.0)
    for key in HISTORY_KEYS:
        columns.append(agg.count[key] / history * PER_MILLE)
        columns.append((agg.hits[key] + SMOOTHING * prior) / (agg.count[key] + SMOOTHING))
    for key in NEWNESS_KEYS:
        # NaN (never seen) stays NaN: minimum propagates it.
        columns.append(np.minimum(day - agg.first_day[key], NEWNESS_CAP_DAYS))
    matrix = np.column_stack(columns) if n else np.empty((0, len(FEATURE_NAMES)))
    return np.asarray(matrix, dtype=np.float64)


def _codes(values: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Integer group codes for string keys, and which rows have a known (non-empty) key."""
    mapping: dict[str, int] = {}
    codes = np.fromiter((mapping.setdefault(v, len(mapping)) for v in values), dtype=np.int64, count=len(values))
    known = np.fromiter((bool(v) for v in values), dtype=np.bool_, count=len(values))
    return codes, known


def _sums_before(codes: npt.NDArray[np.int64], day: Array, values: Sequence[Array]) -> tuple[list[Array], Array]:
    """Per row: sums of `values` over rows with the same code and a strictly earlier day; and the
    earliest such day (NaN if none). Vectorised: sort by (code, day), cumulative sums, then give every
    row of a (code, day) block the sums from before the block."""
    n = len(codes)
    order = np.lexsort((day, codes))
    k = codes[order]
    d = day[order]
    index = np.arange(n)
    group_start = np.r_[True, k[1:] != k[:-1]] if n else np.zeros(0, dtype=np.bool_)
    block_start = np.r_[True, (k[1:] != k[:-1]) | (d[1:] != d[:-1])] if n else group_start
    first_of_group = np.maximum.accumulate(np.where(group_start, index, 0)) if n else index
    first_of_block = np.maximum.accumulate(np.where(block_start, index, 0)) if n else index
    out: list[Array] = []
    for value in values:
        v = value[order]
        before = np.cumsum(v) - v  # sum of earlier rows in sort order
        before = before - before[first_of_group]  # ... within the group
        result = np.empty(n, dtype=np.float64)
        result[order] = before[first_of_block]  # ... and of earlier days only
        out.append(result)
    group_first_day = d[first_of_group] if n else d
    first = np.where(group_first_day < d, group_first_day, np.nan)
    first_day = np.empty(n, dtype=np.float64)
    first_day[order] = first
    return out, first_day


def expanding_aggregates(records: Sequence[RiskRecord]) -> Aggregates:
    """Training aggregates: for every record, its history among `records` of strictly earlier dates.
    Every record must carry an outcome."""
    y = np.array([r.fraud for r in records], dtype=np.float64)
    if np.isnan(y).any():
        raise ValueError("expanding_aggregates needs an outcome on every record")
    day = day_number(records)
    ones = np.ones(len(records), dtype=np.float64)
    count: dict[str, Array] = {}
    hits: dict[str, Array] = {}
    first_day: dict[str, Array] = {}
    for key in HISTORY_KEYS:
        codes, known = _codes([history_key(r, key) for r in records])
        (c, h), f = _sums_before(codes, day, [ones, y])
        count[key] = np.where(known, c, 0.0)
        hits[key] = np.where(known, h, 0.0)
        first_day[key] = np.where(known, f, np.nan)
    price = np.array([r.item_price for r in records], dtype=np.float64)
    mass = np.array([r.net_mass_kg for r in records], dtype=np.float64)
    luv = log_unit_value(price, mass)
    hs_codes, _ = _codes([r.hs6 for r in records])
    (uv_n, uv_sum, uv_sumsq), _ = _sums_before(hs_codes, day, [ones, luv, luv * luv])
    (all_count, all_hits), _ = _sums_before(np.zeros(len(records), dtype=np.int64), day, [ones, y])
    return Aggregates(count, hits, first_day, uv_n, uv_sum, uv_sumsq, all_count, all_hits)


@dataclass(slots=True)
class Snapshot:
    """History totals used at scoring: per key (count, hits, first day), per HS6 unit-value moments."""

    keys: dict[str, dict[str, tuple[float, float, float]]]
    unit_values: dict[str, tuple[float, float, float]]
    all_count: float
    all_hits: float

    @classmethod
    def from_history(cls, records: Sequence[RiskRecord]) -> Snapshot:
        keys: dict[str, dict[str, tuple[float, float, float]]] = {}
        y = [float(r.fraud or 0) for r in records]
        days = [float(r.date.toordinal()) for r in records]
        for key in HISTORY_KEYS:
            table: dict[str, list[float]] = {}
            for record, hit, day in zip(records, y, days, strict=True):
                value = history_key(record, key)
                if not value:
                    continue
                entry = table.get(value)
                if entry is None:
                    table[value] = [1.0, hit, day]
                else:
                    entry[0] += 1.0
                    entry[1] += hit
                    entry[2] = min(entry[2], day)
            keys[key] = {k: (v[0], v[1], v[2]) for k, v in table.items()}
        uv: dict[str, list[float]] = {}
        luvs = log_unit_value(
            np.array([r.item_price for r in records], dtype=np.float64),
            np.array([r.net_mass_kg for r in records], dtype=np.float64),
        )
        for record, luv in zip(records, luvs.tolist(), strict=True):
            m = uv.setdefault(record.hs6, [0.0, 0.0, 0.0])
            m[0] += 1.0
            m[1] += luv
            m[2] += luv * luv
        return cls(
            keys=keys,
            unit_values={k: (v[0], v[1], v[2]) for k, v in uv.items()},
            all_count=float(len(records)),
            all_hits=float(sum(y)),
        )

    def aggregates(self, records: Sequence[RiskRecord]) -> Aggregates:
        n = len(records)
        count: dict[str, Array] = {}
        hits: dict[str, Array] = {}
        first_day: dict[str, Array] = {}
        missing = (0.0, 0.0, float("nan"))
        for key in HISTORY_KEYS:
            table = self.keys.get(key, {})
            rows = [table.get(history_key(r, key), missing) if history_key(r, key) else missing for r in records]
            values = np.array(rows, dtype=np.float64).reshape(n, 3)
            count[key], hits[key], first_day[key] = values[:, 0], values[:, 1], values[:, 2]
        uv = np.array([self.unit_values.get(r.hs6, (0.0, 0.0, 0.0)) for r in records], dtype=np.float64).reshape(n, 3)
        full = np.full(n, 1.0, dtype=np.float64)
        return Aggregates(
            count,
            hits,
            first_day,
            uv[:, 0],
            uv[:, 1],
            uv[:, 2],
            full * self.all_count,
            full * self.all_hits,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "keys": {k: {v: list(t) for v, t in table.items()} for k, table in self.keys.items()},
            "unit_values": {k: list(t) for k, t in self.unit_values.items()},
            "all": [self.all_count, self.all_hits],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Snapshot:
        keys = {k: {v: (t[0], t[1], t[2]) for v, t in table.items()} for k, table in data["keys"].items()}
        unit_values = {k: (t[0], t[1], t[2]) for k, t in data["unit_values"].items()}
        total = data["all"]
        return cls(keys, unit_values, float(total[0]), float(total[1]))


def training_matrix(records: Sequence[RiskRecord], vocabulary: Vocabulary) -> Array:
    return assemble(records, expanding_aggregates(records), vocabulary)


def scoring_matrix(records: Sequence[RiskRecord], snapshot: Snapshot, vocabulary: Vocabulary) -> Array:
    return assemble(records, snapshot.aggregates(records), vocabulary)
