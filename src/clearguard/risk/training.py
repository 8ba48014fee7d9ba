"""LightGBM training on risk records: deterministic with a seed, early-stopped on the most recent
share of the history by date. Pure apart from LightGBM itself (no files, no database).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np

from clearguard.risk.errors import NoHistory
from clearguard.risk.features import (
    CATEGORICAL_FEATURES,
    FEATURE_NAMES,
    Snapshot,
    Vocabulary,
    build_vocabulary,
    training_matrix,
)
from clearguard.risk.metrics import evaluate
from clearguard.risk.record import RiskRecord

MIN_LINES = 50
# Offices with fewer holdout lines than this use the global score distribution for their thresholds.
MIN_OFFICE_REFERENCE = 200


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    holdout: float = 0.15
    seed: int = 42
    num_threads: int = 2
    # Shallow trees and a brisk rate: the same precision on the KCS data with a third of the
    # TreeSHAP cost at scoring (explanations dominate the per-declaration time).
    learning_rate: float = 0.1
    num_leaves: int = 15
    min_data_in_leaf: int = 30
    # Enough for the KCS data (early stopping ends near 500-800); more trees cost scoring time.
    max_rounds: int = 800
    early_stopping_rounds: int = 100

    def params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            "metric": "binary_logloss",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "cat_smooth": 10.0,
            "max_cat_to_onehot": 8,
            "seed": self.seed,
            # Same seed, same threads, same data: the same model, byte for byte.
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.num_threads,
            "verbose": -1,
        }


@dataclass(slots=True)
class TrainedModel:
    booster_text: str
    vocabulary: Vocabulary
    snapshot: Snapshot
    best_iteration: int
    metrics: dict[str, Any]
    params: dict[str, Any]
    data_hash: str
    # Holdout score distributions, sorted: the channel policy turns target rates into thresholds.
    reference_scores: list[float] = field(default_factory=list)
    office_reference_scores: dict[str, list[float]] = field(default_factory=dict)
    feature_names: tuple[str, ...] = FEATURE_NAMES


def history_hash(records: Sequence[RiskRecord]) -> str:
    """SHA-256 of the training data, independent of the order it was read in."""
    digest = hashlib.sha256()
    for line in sorted(
        "|".join(
            str(v)
            for v in (
                r.declaration_ref, r.item, r.date.isoformat(), r.office, r.procedure, r.hs6, r.origin_country,
                r.departure_country, r.transport_mode, r.tax_rate, r.tax_type, repr(r.net_mass_kg),
                repr(r.item_price), r.declarant_id, r.importer_id, r.seller_id, r.fraud, r.critical,
            )
        )
        for r in records
    ):  # fmt: skip
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def sort_by_date(records: Sequence[RiskRecord]) -> list[RiskRecord]:
    return sorted(records, key=lambda r: (r.date, r.declaration_ref, r.item))


def holdout_start(records: Sequence[RiskRecord], holdout: float) -> int:
    """Index (in date order) where the most recent `holdout` share starts, moved to a day boundary so
    that no day is split between fitting and holdout."""
    n = len(records)
    cut = min(max(1, round(n * (1.0 - holdout))), n - 1)
    while cut < n and cut > 0 and records[cut].date == records[cut - 1].date:
        cut += 1
    return cut


def train(records: Sequence[RiskRecord], config: TrainingConfig | None = None) -> TrainedModel:
    config = config or TrainingConfig()
    if not 0.0 < config.holdout < 1.0:
        raise NoHistory(f"holdout: {config.holdout} must be between 0 and 1", field="holdout")
    labelled = sort_by_date([r for r in records if r.fraud is not None])
    if len(labelled) < MIN_LINES:
        raise NoHistory(f"history: {len(labelled)} lines with outcomes, at least {MIN_LINES} are needed")
    cut = holdout_start(labelled, config.holdout)
    fit, hold = labelled[:cut], labelled[cut:]
    y = np.array([r.fraud for r in labelled], dtype=np.float64)
    for part, name in ((y[:cut], "fitting"), (y[cut:], "holdout")):
        if len(part) == 0 or part.min() == part.max():
            raise NoHistory(f"history: the {name} part needs both controlled-clean and violation lines")
    vocabulary = build_vocabulary(fit)
    x = training_matrix(labelled, vocabulary)
    names = list(FEATURE_NAMES)
    params = config.params()
    train_set = lgb.Dataset(
        x[:cut],
        y[:cut],
        feature_name=names,
        categorical_feature=list(CATEGORICAL_FEATURES),
        free_raw_data=True,
    )
    valid_set = lgb.Dataset(x[cut:], y[cut:], reference=train_set)
    booster = lgb.train(
        params,
        train_set,
        num_boost_round=config.max_rounds,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
    )
    best = int(booster.best_iteration or booster.current_iteration())
    holdout_scores = np.asarray(booster.predict(x[cut:], num_iteration=best), dtype=np.float64)
    duty = np.array([r.duty for r in hold], dtype=np.float64)
    metrics = evaluate(holdout_scores, y[cut:], duty)
    metrics.update(
        {
            "holdout_share": config.holdout,
            "fit_lines": len(fit),
            "fit_period": [fit[0].date.isoformat(), fit[-1].date.isoformat()],
            "holdout_period": [hold[0].date.isoformat(), hold[-1].date.isoformat()],
            "best_iteration": best,
        }
    )
    offices: dict[str, list[float]] = {}
    for record, score in zip(hold, holdout_scores.tolist(), strict=True):
        offices.setdefault(record.office, []).append(score)
    return TrainedModel(
        booster_text=booster.model_to_string(num_iteration=best),
        vocabulary=vocabulary,
        # Scoring sees the whole history the model was trained on, fitting and holdout lines alike.
        snapshot=Snapshot.from_history(labelled),
        best_iteration=best,
        metrics=metrics,
        params=params,
        data_hash=history_hash(labelled),
        reference_scores=sorted(holdout_scores.tolist()),
        office_reference_scores={
            office: sorted(scores) for office, scores in offices.items() if len(scores) >= MIN_OFFICE_REFERENCE
        },
    )
