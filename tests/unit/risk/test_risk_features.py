"""One feature implementation: the training path and the scoring path agree, and neither leaks."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from clearguard.risk.features import (
    FEATURE_NAMES,
    Snapshot,
    build_vocabulary,
    expanding_aggregates,
    scoring_matrix,
    training_matrix,
)
from clearguard.risk.training import sort_by_date
from tests.unit.risk.risk_helpers import make_record, synthetic_history


def test_matrix_has_one_column_per_feature_name() -> None:
    records = synthetic_history(200)
    x = training_matrix(records, build_vocabulary(records))
    assert x.shape == (200, len(FEATURE_NAMES))


def test_no_personal_attribute_is_a_feature() -> None:
    forbidden = (
        "name",
        "address",
        "age",
        "gender",
        "sex",
        "nationality",
        "birth",
        "email",
        "phone",
        "consignee",
    )
    assert not [f for f in FEATURE_NAMES if any(word in f for word in forbidden)]


def test_training_features_equal_scoring_features_for_the_same_history() -> None:
    """Rows of the last day, featurised by the vectorised training path (history = earlier days), equal
    the same rows featurised one by one by the scoring path with a snapshot of the earlier days."""
    records = sort_by_date(synthetic_history(3000))
    vocabulary = build_vocabulary(records)
    train_x = training_matrix(records, vocabulary)
    for last_day in (records[-1].date, records[len(records) // 2].date):
        earlier = [r for r in records if r.date < last_day]
        today = [i for i, r in enumerate(records) if r.date == last_day]
        snapshot = Snapshot.from_history(earlier)
        for i in today:
            one = scoring_matrix([records[i]], snapshot, vocabulary)[0]
            np.testing.assert_allclose(one, train_x[i], rtol=1e-9, atol=1e-9, equal_nan=True)
        batch = scoring_matrix([records[i] for i in today], snapshot, vocabulary)
        np.testing.assert_allclose(batch, train_x[today], rtol=1e-9, atol=1e-9, equal_nan=True)


def test_snapshot_survives_json() -> None:
    records = synthetic_history(500)
    snapshot = Snapshot.from_history(records)
    again = Snapshot.from_json(snapshot.to_json())
    probe = synthetic_history(50, seed=9)
    vocabulary = build_vocabulary(records)
    np.testing.assert_array_equal(scoring_matrix(probe, snapshot, vocabulary), scoring_matrix(probe, again, vocabulary))


def test_no_leakage_outcomes_of_the_same_day_or_later_change_nothing() -> None:
    records = sort_by_date(synthetic_history(2000))
    vocabulary = build_vocabulary(records)
    before = training_matrix(records, vocabulary)
    cut_day = records[1000].date
    flipped = [dataclasses.replace(r, fraud=1 - (r.fraud or 0)) if r.date >= cut_day else r for r in records]
    after = training_matrix(flipped, vocabulary)
    upto = [i for i, r in enumerate(records) if r.date <= cut_day]
    later = [i for i, r in enumerate(records) if r.date > cut_day + (records[1].date - records[0].date)]
    np.testing.assert_array_equal(before[upto], after[upto])
    # ... while later lines do see the changed history (the test can fail)
    assert not np.array_equal(before[later], after[later])


def test_own_outcome_is_not_visible_to_scoring() -> None:
    history = synthetic_history(500)
    snapshot = Snapshot.from_history(history)
    vocabulary = build_vocabulary(history)
    record = make_record(declarant_id="D1", date=history[-1].date)
    a = scoring_matrix([dataclasses.replace(record, fraud=1)], snapshot, vocabulary)
    b = scoring_matrix([dataclasses.replace(record, fraud=None)], snapshot, vocabulary)
    np.testing.assert_array_equal(a, b)


def test_first_line_has_no_history_and_prior_is_uninformed() -> None:
    records = sort_by_date(synthetic_history(300))
    agg = expanding_aggregates(records)
    first_day = [i for i, r in enumerate(records) if r.date == records[0].date]
    for i in first_day:
        assert agg.all_count[i] == 0
        assert agg.count["declarant"][i] == 0
        assert math.isnan(agg.first_day["declarant"][i])
    x = training_matrix(records, build_vocabulary(records))
    rate = FEATURE_NAMES.index("declarant_hit_rate")
    assert all(x[i, rate] == 0.5 for i in first_day)


def test_unknown_categories_and_missing_seller_are_missing_not_wrong() -> None:
    history = synthetic_history(300)
    vocabulary = build_vocabulary(history)
    snapshot = Snapshot.from_history(history)
    x = scoring_matrix([make_record(office="99", seller_id="", tax_rate=None)], snapshot, vocabulary)[0]
    assert math.isnan(x[FEATURE_NAMES.index("office")])
    assert x[FEATURE_NAMES.index("seller_history_share")] == 0
    assert math.isnan(x[FEATURE_NAMES.index("seller_days_known")])
    assert math.isnan(x[FEATURE_NAMES.index("tax_rate")])


def test_hit_rate_is_smoothed_towards_the_global_rate() -> None:
    history = [
        make_record(declaration_ref=f"h{i}", declarant_id="X" if i < 2 else f"O{i}", fraud=int(i < 2))
        for i in range(20)
    ]
    snapshot = Snapshot.from_history(history)
    x = scoring_matrix([make_record(declarant_id="X")], snapshot, build_vocabulary(history))[0]
    rate = x[FEATURE_NAMES.index("declarant_hit_rate")]
    prior = (2 + 1) / (20 + 2)
    assert math.isclose(rate, (2 + 10 * prior) / (2 + 10))
    assert prior < rate < 1.0
