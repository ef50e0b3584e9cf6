"""S (churn risk, S_v1), its scalar helper and bands; the 56-day window ends at as_of."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dreamseed.kpis import KpiParameters, churn_band, churn_bands, churn_risk, compute_kpis


def test_an_active_user_has_low_risk_and_a_stale_one_high():
    assert float(churn_risk(0, 0.0, 12, 14)) <= 0.05
    assert float(churn_risk(14, 7.0, 0, 14)) >= 0.95


def test_more_sessions_lower_risk_larger_gaps_and_a_shorter_horizon_raise_it():
    assert churn_risk(5, 2.0, 8) < churn_risk(5, 2.0, 2)
    assert churn_risk(5, 6.0, 4) > churn_risk(5, 1.0, 4)
    assert churn_risk(5, 2.0, 4, horizon_days=7) > churn_risk(5, 2.0, 4, horizon_days=14)


def test_churn_risk_is_vectorised_and_propagates_nulls():
    scores = churn_risk(
        np.array([0, 7, 14, np.nan]), np.array([0.0, 3.5, 7.0, 1.0]), np.array([10, 5, 0, 3]), 14
    )
    assert scores.shape == (4,)
    assert scores[:3] == pytest.approx([0.0, 0.3 + 0.125 + 0.075, 1.0])
    assert math.isnan(scores[3])
    with pytest.raises(ValueError, match="horizon"):
        churn_risk(1, 1, 1, 0)


def test_bands():
    assert [churn_band(s) for s in (0.0, 0.29, 0.3, 0.69, 0.7, 1.0)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
    ]
    assert churn_band(None) is None
    assert churn_band(float("nan")) is None
    assert churn_bands(pd.Series([0.1, np.nan, 0.8])).tolist() == ["low", None, "high"]


def test_active_user_frame_is_low_risk(make_attempts, as_of):
    frame = make_attempts([{"days_ago": 0, "hour": h, "session_id": f"s{h}"} for h in range(12)])
    row = compute_kpis(users=["u1"], attempts=frame, as_of=as_of).loc["u1"]
    assert row["days_since_last"] == 0
    assert row["sessions_56d"] == 12
    assert row["mean_gap_days"] == pytest.approx(1 / 24)
    assert row["S"] <= 0.05
    assert row["S_band"] == "low"
    assert row["S_v1"] == row["S"]


def test_stale_user_frame_is_high_risk(make_attempts, as_of):
    frame = make_attempts([{"days_ago": 42, "session_id": "a"}, {"days_ago": 14, "session_id": "b"}])
    row = compute_kpis(users=["u1"], attempts=frame, as_of=as_of).loc["u1"]
    assert row["days_since_last"] == 14
    assert row["mean_gap_days"] == pytest.approx(28)
    assert row["S"] == pytest.approx(0.60 + 0.25 + 0.15 * 0.8)
    assert row["S"] >= 0.95
    assert row["S_band"] == "high"


def test_session_gaps_use_each_session_s_last_attempt_and_null_ids_are_one_session(make_attempts, as_of):
    frame = make_attempts(
        [
            {"days_ago": 3, "hour": 1, "session_id": "a"},
            {"days_ago": 2, "hour": 12, "session_id": "a"},
            {"days_ago": 0, "hour": 12, "session_id": None},
            {"days_ago": 0, "hour": 13, "session_id": None},
        ]
    )
    row = compute_kpis(users=["u1"], attempts=frame, as_of=as_of).loc["u1"]
    assert row["sessions_56d"] == 2
    assert row["mean_gap_days"] == pytest.approx(2 + 1 / 24)


def test_horizon_is_a_parameter(make_attempts, as_of):
    frame = make_attempts([{"days_ago": 5}])
    short = compute_kpis(
        users=["u1"], attempts=frame, as_of=as_of, parameters=KpiParameters(churn_horizon_days=7)
    )
    default = compute_kpis(users=["u1"], attempts=frame, as_of=as_of)
    assert short.loc["u1", "S"] > default.loc["u1", "S"]


def test_window_is_the_56_days_ending_at_as_of(make_attempts, as_of):
    stale = compute_kpis(users=["u1"], attempts=make_attempts([{"days_ago": 56}]), as_of=as_of).loc["u1"]
    assert math.isnan(stale["S"])
    assert math.isnan(stale["days_since_last"])
    assert stale["sessions_56d"] == 0
    edge = compute_kpis(users=["u1"], attempts=make_attempts([{"days_ago": 55}]), as_of=as_of).loc["u1"]
    assert edge["days_since_last"] == 55
    assert edge["mean_gap_days"] == 0


def test_days_that_have_not_happened_do_not_count(make_attempts, as_of):
    frame = make_attempts([{"days_ago": 3}, {"days_ago": -2, "session_id": "future"}])
    row = compute_kpis(users=["u1"], attempts=frame, as_of=as_of).loc["u1"]
    assert row["days_since_last"] == 3
    assert row["sessions_56d"] == 1
