"""Evaluation of a ranking: precision, recall and revenue at shares of lines inspected, AUC, and the
same for random selection. Pure numpy.

Revenue is the duty at stake on the lines where a control found a violation: Item Price x Tax Rate
(rate in percent, so / 100), the only revenue measure the KCS data allows (it has no duty column).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

SHARES: tuple[float, ...] = (0.01, 0.02, 0.05, 0.10)
REVENUE_DEFINITION = (
    "revenue = sum over inspected lines found in violation of Item Price x Tax Rate / 100 "
    "(duty at stake; the data has no duty column)"
)

FloatArray = npt.NDArray[np.float64]


def share_key(share: float) -> str:
    return f"{share:.2f}"


def inspected_count(lines: int, share: float) -> int:
    return max(1, round(share * lines)) if lines else 0


def auc(scores: FloatArray, labels: FloatArray) -> float:
    """Area under the ROC curve (Mann-Whitney U, ties counted half); NaN with a single class."""
    positives = float(labels.sum())
    negatives = float(len(labels) - positives)
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores), dtype=np.float64)
    sorted_scores = scores[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(average, counts)
    rank_sum = float(ranks[labels == 1].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def at_shares(
    priority: FloatArray, labels: FloatArray, revenue: FloatArray, shares: Sequence[float] = SHARES
) -> dict[str, dict[str, float]]:
    """Inspect the top share of lines by `priority` (ties broken by file order)."""
    order = np.argsort(-priority, kind="mergesort")
    found = labels[order]
    caught = (revenue * labels)[order]
    total_hits = float(labels.sum())
    total_revenue = float((revenue * labels).sum())
    out: dict[str, dict[str, float]] = {}
    for share in shares:
        k = inspected_count(len(labels), share)
        hits = float(found[:k].sum())
        money = float(caught[:k].sum())
        out[share_key(share)] = {
            "inspected": float(k),
            "precision": hits / k if k else 0.0,
            "recall": hits / total_hits if total_hits else 0.0,
            "revenue": money,
            "revenue_share": money / total_revenue if total_revenue else 0.0,
        }
    return out


def random_at_shares(
    labels: FloatArray, revenue: FloatArray, shares: Sequence[float] = SHARES
) -> dict[str, dict[str, float]]:
    """Expected figures of a uniformly random selection of the same size (no sampling noise)."""
    n = len(labels)
    total_hits = float(labels.sum())
    total_revenue = float((revenue * labels).sum())
    out: dict[str, dict[str, float]] = {}
    for share in shares:
        k = inspected_count(n, share)
        fraction = k / n if n else 0.0
        out[share_key(share)] = {
            "inspected": float(k),
            "precision": total_hits / n if n else 0.0,
            "recall": fraction if total_hits else 0.0,
            "revenue": fraction * total_revenue,
            "revenue_share": fraction if total_revenue else 0.0,
        }
    return out


def evaluate(
    probabilities: FloatArray, labels: FloatArray, duty: FloatArray, shares: Sequence[float] = SHARES
) -> dict[str, Any]:
    """The evaluation document (without the model name): precision ranking, revenue ranking, random."""
    return {
        "lines": len(labels),
        "violations": int(labels.sum()),
        "violation_rate": float(labels.mean()) if len(labels) else 0.0,
        "auc": auc(probabilities, labels),
        "ranking": "by predicted probability of a violation",
        "at": at_shares(probabilities, labels, duty, shares),
        "revenue_ranking": {
            "ranking": "by expected duty at stake: probability x Item Price x Tax Rate / 100",
            "at": at_shares(probabilities * duty, labels, duty, shares),
        },
        "random": {"auc": 0.5, "at": random_at_shares(labels, duty, shares)},
        "revenue_definition": REVENUE_DEFINITION,
    }


def curve(priority: FloatArray, labels: FloatArray, points: int = 100, max_share: float = 0.5) -> FloatArray:
    """Rows of (share inspected, precision, recall) for plotting."""
    order = np.argsort(-priority, kind="mergesort")
    cumulative = np.cumsum(labels[order])
    total = max(float(labels.sum()), 1.0)
    shares = np.linspace(max_share / points, max_share, points)
    ks = np.maximum(1, np.round(shares * len(labels)).astype(np.int64))
    hits = cumulative[ks - 1]
    return np.column_stack([shares, hits / ks, hits / total])
