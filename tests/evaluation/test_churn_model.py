"""Churn features (known answers), the outcome, and the learned model: training, calibration,
serialisation, the held-out comparison and how the jobs' S is replaced."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dreamseed.evaluation import (
    FEATURE_COLUMNS,
    ChurnModel,
    churn_features,
    holdout_split,
    no_activity_labels,
    stored_model_wins,
    with_learned_churn,
)
from dreamseed.evaluation.training import ChurnSnapshots, train_and_compare
from dreamseed.kpis import churn_risk, prepare_attempts, theta_trend

from .conftest import AS_OF, attempts_frame, session_attempts, simulated_history


def features_of(rows: list[dict], users: list[str], goals: pd.DataFrame | None = None) -> pd.DataFrame:
    attempts = attempts_frame(rows)
    index = pd.Index(users, name="user_id")
    return churn_features(prepare_attempts(attempts, index, AS_OF), theta_trend(None, index, AS_OF), goals)


def test_features_of_a_regular_user_and_of_one_without_activity() -> None:
    rows = session_attempts("a", [2, 5, 9, 16, 20], [True, True, False, True, False])
    features = features_of(rows, ["a", "nobody"])
    a = features.loc["a"]
    assert a["days_since_last"] == 2
    assert a["days_since_first"] == 20
    assert (a["sessions_7d"], a["sessions_14d"], a["sessions_prev_14d"], a["sessions_56d"]) == (2, 3, 2, 5)
    assert a["active_days_14d"] == 3
    assert a["mean_gap_days"] == pytest.approx(18 / 4)
    assert a["max_gap_days"] == pytest.approx(7)
    assert a["overdue_ratio"] == pytest.approx(2 / (18 / 4 + 1))
    assert a["attempts_14d"] == 3
    assert a["accuracy_14d"] == pytest.approx(2 / 3)
    assert a["accuracy_change"] == pytest.approx(2 / 3 - 1 / 2)
    assert a["S_v1"] == pytest.approx(float(churn_risk(2, 18 / 4, 5)))
    assert math.isnan(a["theta_now"])
    nobody = features.loc["nobody"]
    assert math.isnan(nobody["days_since_last"])
    assert nobody["sessions_56d"] == 0
    assert math.isnan(nobody["S_v1"])
    assert list(features.columns) == list(FEATURE_COLUMNS)


def test_the_open_gap_counts_as_the_largest_gap_and_goals_give_gap_and_days() -> None:
    goals = pd.DataFrame(
        {"user_id": ["a"], "target_level": [0.5], "target_date": [AS_OF + timedelta(days=10)]}
    )
    features = features_of(session_attempts("a", [30, 31]), ["a"], goals)
    assert features.loc["a", "max_gap_days"] == 30
    assert features.loc["a", "days_to_goal"] == 10
    assert math.isnan(features.loc["a", "goal_gap"])  # no θ yet


def test_no_activity_labels_look_only_at_the_horizon_after_the_cut_off() -> None:
    days = pd.DataFrame(
        {
            "user_id": ["a", "b", "c", "d"],
            "day": [AS_OF, AS_OF + timedelta(days=14), AS_OF + timedelta(days=15), AS_OF + timedelta(days=1)],
        }
    )
    labels = no_activity_labels(days, pd.Index(["a", "b", "c", "d", "e"]), AS_OF, 14)
    assert labels.tolist() == [1.0, 0.0, 1.0, 0.0, 1.0]


@given(st.lists(st.dates(date(2025, 1, 1), date(2025, 12, 31)), min_size=1, max_size=20), st.integers(1, 28))
def test_training_days_end_their_outcome_window_before_the_first_held_out_day(
    days: list[date], horizon: int
) -> None:
    split = holdout_split(days, horizon)
    assert split.holdout_days
    assert set(split.train_days) | set(split.holdout_days) <= set(days)
    assert all(d + timedelta(days=horizon) <= split.holdout_days[0] for d in split.train_days)
    assert max(days) in split.holdout_days


@pytest.fixture(scope="module")
def snapshots() -> ChurnSnapshots:
    """Weekly snapshots of 300 simulated users over 12 weeks (features, outcomes known from the data)."""
    attempts, days = simulated_history(300, 84, seed=7)
    parts = []
    for k in range(8):
        cutoff = AS_OF - timedelta(days=14 + 7 * k)
        users = pd.Index(sorted(attempts.loc[attempts["completed_at"].dt.date <= cutoff, "user_id"].unique()))
        features = churn_features(
            prepare_attempts(attempts, users, cutoff), theta_trend(None, users, cutoff), None
        )
        frame = features.reset_index().assign(cutoff=cutoff)
        parts.append(ChurnSnapshots(frame, no_activity_labels(days, users, cutoff, 14)))
    return ChurnSnapshots.concat(parts)


def test_the_trained_model_discriminates_is_calibrated_and_beats_the_heuristic(
    snapshots: ChurnSnapshots,
) -> None:
    trained = train_and_compare(snapshots)
    scores = trained.comparison.model
    assert 0 < scores.n <= trained.holdout_rows
    assert scores.roc_auc > 0.8
    assert 0.6 < scores.calibration_slope < 1.6
    assert trained.comparison.model_wins
    assert stored_model_wins(trained.metrics())
    probabilities = trained.model.predict(snapshots.frame)
    known = snapshots.frame["days_since_last"].notna().to_numpy()
    assert np.all((probabilities[known] > 0) & (probabilities[known] < 1))
    assert np.all(np.isnan(probabilities[~known]))


def test_the_model_round_trips_through_bytes_exactly(snapshots: ChurnSnapshots) -> None:
    model = train_and_compare(snapshots).model
    again = ChurnModel.from_bytes(model.to_bytes())
    assert again == model
    assert np.array_equal(again.predict(snapshots.frame), model.predict(snapshots.frame), equal_nan=True)
    with pytest.raises(ValueError, match="not a"):
        ChurnModel.from_bytes(b'{"format": "pickle"}')


def test_too_few_weeks_to_hold_out_is_an_error(snapshots: ChurnSnapshots) -> None:
    two_weeks = snapshots.on_days(tuple(sorted(set(snapshots.frame["cutoff"])))[-2:])
    with pytest.raises(ValueError, match="too few cut-off days"):
        train_and_compare(two_weeks)


def test_stored_metrics_must_show_both_wins() -> None:
    def metrics(model_auc: float, model_brier: float) -> dict:
        return {
            "heldout": {
                "model": {"roc_auc": model_auc, "brier": model_brier},
                "S_v1": {"roc_auc": 0.8, "brier": 0.2},
            }
        }

    assert stored_model_wins(metrics(0.85, 0.15))
    assert not stored_model_wins(metrics(0.85, 0.25))
    assert not stored_model_wins(metrics(0.75, 0.15))
    assert not stored_model_wins({})


def test_the_learned_probability_replaces_s_and_s_v1_stays(snapshots: ChurnSnapshots) -> None:
    model = train_and_compare(snapshots).model
    rows = snapshots.frame[snapshots.frame["cutoff"] == snapshots.frame["cutoff"].max()].set_index("user_id")
    kpis = pd.DataFrame({"S": rows["S_v1"], "S_v1": rows["S_v1"], "I_t": 0.1}, index=rows.index)
    kpis.loc["ghost"] = [np.nan, np.nan, 0.0]
    result = with_learned_churn(kpis, rows[list(FEATURE_COLUMNS)], model, "churn:v7")
    assert result["S_v1"].equals(kpis["S_v1"])
    assert np.allclose(
        result.loc[rows.index, "S"].where(rows["S_v1"].notna()), model.predict(rows), equal_nan=True
    )
    assert set(result.loc[rows.index[rows["S_v1"].notna()], "S_source"]) == {"churn:v7"}
    assert result.loc["ghost", "S_source"] == "S_v1"
    assert math.isnan(result.loc["ghost", "S"])
    assert set(result["S_band"].dropna()) <= {"low", "medium", "high"}
