from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from clearguard.risk.errors import ModelIntegrityError, NoHistory
from clearguard.risk.metrics import evaluate
from clearguard.risk.record import RiskRecord
from clearguard.risk.scorer import Scorer, dump_model, load_model
from clearguard.risk.training import TrainingConfig, holdout_start, sort_by_date, train
from tests.unit.risk.risk_helpers import make_record, synthetic_history

FAST = TrainingConfig(num_threads=1, max_rounds=200, early_stopping_rounds=30)


def test_same_seed_same_model_other_seed_other_model(kcs_train: list[RiskRecord]) -> None:
    subset = kcs_train[:8000]
    first = train(subset, FAST)
    again = train(list(reversed(subset)), FAST)  # input order does not matter either
    assert first.booster_text == again.booster_text
    assert dump_model(first) == dump_model(again)
    other = train(subset, dataclasses.replace(FAST, seed=7))
    assert other.booster_text != first.booster_text


def test_shuffled_labels_score_near_random(kcs_train: list[RiskRecord], kcs_valid: list[RiskRecord]) -> None:
    """The evaluation can fail: a model that learns from noise ranks valid.csv like a coin."""
    rng = random.Random(3)
    labels = [r.fraud for r in kcs_train]
    rng.shuffle(labels)
    shuffled = [dataclasses.replace(r, fraud=y, critical=y) for r, y in zip(kcs_train, labels, strict=True)]
    scorer = Scorer(train(shuffled, FAST))
    scores = scorer.predict(scorer.features(kcs_valid))
    y = np.array([r.fraud for r in kcs_valid], dtype=np.float64)
    result = evaluate(scores, y, np.array([r.duty for r in kcs_valid]))
    assert abs(result["auc"] - 0.5) < 0.05
    base = result["random"]["at"]["0.05"]["precision"]
    assert abs(result["at"]["0.05"]["precision"] - base) < 0.08


def test_learns_a_planted_signal() -> None:
    records = synthetic_history(4000)
    model = train(records, FAST)
    assert model.metrics["auc"] > 0.7
    assert model.metrics["at"]["0.05"]["precision"] > 2 * model.metrics["random"]["at"]["0.05"]["precision"]


def test_holdout_is_the_most_recent_share_and_never_splits_a_day() -> None:
    records = sort_by_date(synthetic_history(1000))
    cut = holdout_start(records, 0.15)
    assert records[cut - 1].date < records[cut].date
    assert 0.80 <= cut / len(records) <= 0.90
    model = train(records, FAST)
    assert model.metrics["holdout_period"][0] == records[cut].date.isoformat()
    assert model.metrics["fit_lines"] == cut


def test_too_little_or_one_class_history_is_refused() -> None:
    with pytest.raises(NoHistory, match="at least"):
        train([make_record()] * 10, FAST)
    clean = [make_record(declaration_ref=str(i), fraud=0) for i in range(100)]
    with pytest.raises(NoHistory, match="both"):
        train(clean, FAST)
    with pytest.raises(NoHistory, match="holdout"):
        train(synthetic_history(200), dataclasses.replace(FAST, holdout=1.5))


def test_model_file_roundtrip_and_refusals() -> None:
    model = train(synthetic_history(1500), FAST)
    blob = dump_model(model)
    again = load_model(blob)
    probe = synthetic_history(30, seed=5)
    a, b = Scorer(model), Scorer(again)
    np.testing.assert_array_equal(a.predict(a.features(probe)), b.predict(b.features(probe)))
    with pytest.raises(ModelIntegrityError, match="not a model"):
        load_model(b"garbage")
    with pytest.raises(ModelIntegrityError, match="feature set"):
        load_model(blob.replace(b'"feature_names":["office"', b'"feature_names":["officer"'))


def test_contributions_explain_the_score() -> None:
    model = train(synthetic_history(3000), FAST)
    scorer = Scorer(model)
    x = scorer.features([make_record(declarant_id="D0"), make_record(declarant_id="D59")])
    contributions = scorer.contributions(x, top=3)
    assert all(len(c) <= 3 for c in contributions)
    assert all(c.contribution > 0 for row in contributions for c in row)
    # declarant D0 is one of the planted bad ones: its history is among the top reasons
    assert any(c.feature.startswith("declarant") for c in contributions[0])
    assert scorer.describe_value("office", 0.0) == "10"


def test_score_and_explain_agrees_with_predict() -> None:
    scorer = Scorer(train(synthetic_history(2000), FAST))
    probe = synthetic_history(6, seed=11)
    x = scorer.features(probe)
    full = scorer.predict(x)
    for i in range(len(probe)):
        scores, top, reasons = scorer.score_and_explain(x[i : i + 1])
        assert top == 0 and scores[0] == pytest.approx(full[i], abs=1e-12)
        assert reasons == scorer.contributions(x[i : i + 1])[0]
    scores, top, reasons = scorer.score_and_explain(x)
    assert top == int(np.argmax(full)) and reasons == scorer.contributions(x[top : top + 1])[0]
