"""Scoring with a trained model: probabilities and per-feature contributions (LightGBM pred_contrib).

The model file is one JSON document (booster text, vocabulary, history snapshot, reference scores);
its SHA-256 is checked by the registry before it is ever parsed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np

from clearguard.risk.errors import ModelIntegrityError
from clearguard.risk.features import FEATURE_NAMES, Array, Snapshot, scoring_matrix
from clearguard.risk.record import RiskRecord
from clearguard.risk.training import TrainedModel

FORMAT = "clearguard-risk-model/1"


def dump_model(model: TrainedModel) -> bytes:
    document = {
        "format": FORMAT,
        "feature_names": list(model.feature_names),
        "vocabulary": model.vocabulary,
        "best_iteration": model.best_iteration,
        "params": model.params,
        "data_hash": model.data_hash,
        "metrics": model.metrics,
        "reference_scores": model.reference_scores,
        "office_reference_scores": model.office_reference_scores,
        "snapshot": model.snapshot.to_json(),
        "booster": model.booster_text,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def load_model(blob: bytes) -> TrainedModel:
    try:
        document: dict[str, Any] = json.loads(blob)
    except ValueError as exc:
        raise ModelIntegrityError(f"model file: not a model document ({exc})") from None
    if document.get("format") != FORMAT:
        raise ModelIntegrityError(f"model file: format {document.get('format')!r}, expected {FORMAT}")
    if tuple(document["feature_names"]) != FEATURE_NAMES:
        # A model trained with other features would be fed the wrong columns: refuse, retrain instead.
        raise ModelIntegrityError("model file: trained with a different feature set; retrain it")
    return TrainedModel(
        booster_text=document["booster"],
        vocabulary=document["vocabulary"],
        snapshot=Snapshot.from_json(document["snapshot"]),
        best_iteration=int(document["best_iteration"]),
        metrics=document["metrics"],
        params=document["params"],
        data_hash=document["data_hash"],
        reference_scores=document["reference_scores"],
        office_reference_scores=document["office_reference_scores"],
    )


@dataclass(frozen=True, slots=True)
class Contribution:
    feature: str
    value: float | None  # the feature's value (categories as their code), None when missing
    contribution: float  # log-odds added by this feature for this record

    def to_json(self) -> dict[str, Any]:
        return {"feature": self.feature, "value": self.value, "contribution": round(self.contribution, 4)}


class Scorer:
    def __init__(self, model: TrainedModel, *, num_threads: int = 1) -> None:
        self.model = model
        self.booster = lgb.Booster(model_str=model.booster_text)
        self._num_threads = num_threads
        self._reference = np.asarray(model.reference_scores, dtype=np.float64)
        self._office_reference = {
            office: np.asarray(scores, dtype=np.float64) for office, scores in model.office_reference_scores.items()
        }
        self._decoders = {
            name: {code: value for value, code in codes.items()} for name, codes in model.vocabulary.items()
        }

    def features(self, records: Sequence[RiskRecord]) -> Array:
        return scoring_matrix(records, self.model.snapshot, self.model.vocabulary)

    def unit_value_history(self, records: Sequence[RiskRecord]) -> list[float]:
        """How many history lines each record's HS6 unit value is compared with (for the rules)."""
        moments = self.model.snapshot.unit_values
        return [moments.get(r.hs6, (0.0, 0.0, 0.0))[0] for r in records]

    def predict(self, x: Array) -> Array:
        return np.asarray(self.booster.predict(x, num_threads=self._num_threads), dtype=np.float64)

    def contributions(self, x: Array, top: int = 5) -> list[list[Contribution]]:
        """Per row, the `top` features that pushed the score up the most (positive log-odds)."""
        raw = np.asarray(self.booster.predict(x, pred_contrib=True, num_threads=self._num_threads))
        return [self._top(row, values, top) for row, values in zip(raw, x, strict=True)]

    def score_and_explain(self, x: Array, top: int = 5) -> tuple[Array, int, list[Contribution]]:
        """Scores of all rows, the riskiest row and its top contributions. TreeSHAP dominates the cost,
        so it runs for one row only; for a one-item declaration its contributions also give the score
        (bias + contributions = log-odds), which saves a second pass over the trees."""
        if len(x) == 1:
            raw = np.asarray(self.booster.predict(x, pred_contrib=True, num_threads=self._num_threads))[0]
            score = 1.0 / (1.0 + math.exp(-float(raw.sum())))
            return np.array([score], dtype=np.float64), 0, self._top(raw, x[0], top)
        scores = self.predict(x)
        best = int(np.argmax(scores))
        return scores, best, self.contributions(x[best : best + 1], top)[0]

    def score_and_explain_many(
        self, x: Array, bounds: Sequence[tuple[int, int]], top: int = 5
    ) -> list[tuple[Array, int, list[Contribution]]]:
        """`score_and_explain` of each declaration whose rows of `x` are [first, last), with the same
        results, in two model calls for all of them: scores of the rows of several-item declarations,
        then the contributions of every declaration's riskiest row (a one-item declaration's score
        comes from its contributions, as in score_and_explain)."""
        several = [n for n, (first, last) in enumerate(bounds) if last - first > 1]
        scores_of: dict[int, Array] = {}
        if several:
            rows = np.concatenate([np.arange(*bounds[n]) for n in several])
            predicted = self.predict(x[rows])
            offset = 0
            for n in several:
                width = bounds[n][1] - bounds[n][0]
                scores_of[n] = predicted[offset : offset + width]
                offset += width
        tops = [int(np.argmax(scores_of[n])) if n in scores_of else 0 for n in range(len(bounds))]
        top_rows = np.array([first + t for (first, _last), t in zip(bounds, tops, strict=True)], dtype=np.intp)
        if len(top_rows) == 0:
            return []
        raw = np.asarray(self.booster.predict(x[top_rows], pred_contrib=True, num_threads=self._num_threads))
        out: list[tuple[Array, int, list[Contribution]]] = []
        for n, (row, t) in enumerate(zip(top_rows, tops, strict=True)):
            contributions = self._top(raw[n], x[row], top)
            if n in scores_of:
                out.append((scores_of[n], t, contributions))
            else:
                score = 1.0 / (1.0 + math.exp(-float(raw[n].sum())))
                out.append((np.array([score], dtype=np.float64), 0, contributions))
        return out

    @staticmethod
    def _top(row: Array, values: Array, top: int) -> list[Contribution]:
        order = np.argsort(-row[:-1], kind="mergesort")[:top]
        return [
            Contribution(FEATURE_NAMES[i], None if math.isnan(values[i]) else float(values[i]), float(row[i]))
            for i in order
            if row[i] > 0
        ]

    def describe_value(self, feature: str, value: float | None) -> str | float | None:
        """Categorical codes back to their values, for officers."""
        if value is None or feature not in self._decoders:
            return value
        return self._decoders[feature].get(int(value), value)

    def top_share(self, score: float, office: str) -> float:
        """Share of reference (holdout) lines scoring at least `score`: 0.01 = riskiest 1%."""
        reference = self._office_reference.get(office, self._reference)
        if len(reference) == 0:
            return 1.0
        at_least = len(reference) - int(np.searchsorted(reference, score, side="left"))
        return at_least / len(reference)
