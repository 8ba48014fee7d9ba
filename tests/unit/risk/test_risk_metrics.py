from __future__ import annotations

import math

import numpy as np
import pytest

from clearguard.risk.metrics import at_shares, auc, curve, evaluate, random_at_shares


def arr(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def test_auc_perfect_reversed_ties_and_single_class() -> None:
    assert auc(arr(0.9, 0.8, 0.2, 0.1), arr(1, 1, 0, 0)) == 1.0
    assert auc(arr(0.1, 0.2, 0.8, 0.9), arr(1, 1, 0, 0)) == 0.0
    assert auc(arr(0.5, 0.5, 0.5, 0.5), arr(1, 0, 1, 0)) == 0.5
    assert auc(arr(0.9, 0.5, 0.5, 0.1), arr(1, 1, 0, 0)) == pytest.approx(0.875)
    assert math.isnan(auc(arr(0.1, 0.2), arr(0, 0)))


def test_precision_recall_revenue_at_shares() -> None:
    scores = np.linspace(1, 0, 100)
    labels = np.zeros(100)
    labels[[0, 2, 4, 50]] = 1
    duty = np.full(100, 10.0)
    duty[50] = 1000.0
    out = at_shares(scores, labels, duty, (0.01, 0.05, 0.5))
    assert out["0.01"] == {
        "inspected": 1,
        "precision": 1.0,
        "recall": 0.25,
        "revenue": 10.0,
        "revenue_share": pytest.approx(10 / 1030),
    }
    assert out["0.05"]["precision"] == pytest.approx(3 / 5)
    assert out["0.50"]["recall"] == 0.75  # line 50 is just outside the first half


def test_random_baseline_is_the_expectation() -> None:
    labels = arr(1, 0, 0, 0, 1, 0, 0, 0, 0, 0)
    duty = arr(5, 1, 1, 1, 15, 1, 1, 1, 1, 1)
    out = random_at_shares(labels, duty, (0.10,))["0.10"]
    assert out == {"inspected": 1, "precision": 0.2, "recall": 0.1, "revenue": 2.0, "revenue_share": 0.1}


def test_evaluate_document_shape_and_revenue_ranking() -> None:
    rng = np.random.default_rng(0)
    labels = (rng.random(1000) < 0.2).astype(np.float64)
    scores = labels * 0.5 + rng.random(1000) * 0.6
    duty = rng.random(1000) * 100
    doc = evaluate(scores, labels, duty)
    assert set(doc["at"]) == {"0.01", "0.02", "0.05", "0.10"}
    assert set(doc["at"]["0.05"]) >= {"precision", "recall", "revenue"}
    assert set(doc["random"]["at"]) == set(doc["at"])
    assert "Item Price x Tax Rate" in doc["revenue_definition"]
    assert doc["revenue_ranking"]["at"]["0.10"]["revenue"] >= doc["at"]["0.10"]["revenue"]


def test_curve_rows() -> None:
    points = curve(arr(0.9, 0.8, 0.1, 0.0), arr(1, 0, 1, 0), points=4, max_share=1.0)
    np.testing.assert_allclose(points[:, 0], [0.25, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(points[:, 1], [1.0, 0.5, 2 / 3, 0.5])
    np.testing.assert_allclose(points[:, 2], [0.5, 0.5, 1.0, 1.0])
