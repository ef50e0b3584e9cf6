"""The θ trend written to ability_estimates: latest θ, SE, weighted slope and its SE."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dreamseed.kpis import TREND_COLUMNS, KpiParameters, theta_trend

NAN = float("nan")


def test_no_points_gives_nulls_and_one_point_gives_the_latest(make_theta, as_of):
    trend = theta_trend(make_theta([("u1", 3, 0.4, 0.2)]), ["u1", "u2"], as_of)
    assert list(trend.columns) == list(TREND_COLUMNS)
    one, none = trend.loc["u1"], trend.loc["u2"]
    assert (one["mean"], one["sd"], one["n_points"], one["method"]) == (0.4, 0.2, 1, "latest")
    assert math.isnan(one["slope"])
    assert math.isnan(one["slope_se"])
    assert none["n_points"] == 0
    assert none["method"] is None
    assert all(math.isnan(none[c]) for c in ("mean", "sd", "slope", "slope_se"))


def test_empty_or_missing_history_gives_nulls(as_of):
    for history in (None, pd.DataFrame()):
        trend = theta_trend(history, ["u1"], as_of)
        assert trend.loc["u1", "n_points"] == 0


def test_two_points_give_the_exact_slope_and_the_known_variance_se(make_theta, as_of):
    trend = theta_trend(make_theta([("u1", 10, 0.0, 0.1), ("u1", 0, 0.5, 0.1)]), ["u1"], as_of).loc["u1"]
    assert trend["slope"] == pytest.approx(0.05)
    assert trend["slope_se"] == pytest.approx(math.sqrt(1 / (100 * (25 + 25))))
    assert (trend["mean"], trend["sd"], trend["method"]) == (0.5, 0.1, "wls")


def test_slope_is_recovered_from_a_seeded_noisy_history(make_theta, as_of):
    rng = np.random.default_rng(7)
    days = np.arange(40, -1, -2)
    truth = 0.01
    rows = [("u1", int(d), float(-truth * d + rng.normal(0, 0.1)), 0.1) for d in days]
    trend = theta_trend(make_theta(rows), ["u1"], as_of).loc["u1"]
    assert abs(trend["slope"] - truth) < 3 * trend["slope_se"]
    assert trend["slope_se"] < 0.005


def test_weights_follow_the_standard_errors(make_theta, as_of):
    rows = [("u1", 20, 0.0, 0.05), ("u1", 10, 0.1, 0.05), ("u1", 5, 3.0, 50.0), ("u1", 0, 0.2, 0.05)]
    trend = theta_trend(make_theta(rows), ["u1"], as_of).loc["u1"]
    assert trend["slope"] == pytest.approx(0.01, abs=1e-3)


def test_unknown_or_zero_ses_take_the_users_median_se(make_theta, as_of):
    partly = theta_trend(
        make_theta([("u1", 10, 0.0, 0.1), ("u1", 5, 0.25, NAN), ("u1", 0, 0.5, 0.0)]), ["u1"], as_of
    ).loc["u1"]
    assert partly["method"] == "wls"
    assert partly["sd"] == 0.1
    assert partly["slope"] == pytest.approx(0.05)


def test_without_any_se_the_trend_is_ordinary_least_squares(make_theta, as_of):
    two = theta_trend(make_theta([("u1", 10, 0.0, NAN), ("u1", 0, 0.5, NAN)]), ["u1"], as_of).loc["u1"]
    assert two["method"] == "ols"
    assert two["slope"] == pytest.approx(0.05)
    assert math.isnan(two["slope_se"])
    assert math.isnan(two["sd"])
    three = theta_trend(
        make_theta([("u1", 10, 0.0, NAN), ("u1", 5, 0.35, NAN), ("u1", 0, 0.5, NAN)]), ["u1"], as_of
    ).loc["u1"]
    residuals = np.array([0.0, 0.35, 0.5]) - (0.05 * np.array([0, 5, 10]) + 0.0 + (0.85 - 0.75) / 3)
    assert three["slope_se"] == pytest.approx(math.sqrt((residuals**2).sum() / 1 / 50))


def test_points_at_one_fit_time_have_no_slope(make_theta, as_of):
    trend = theta_trend(make_theta([("u1", 3, 0.1, 0.2), ("u1", 3, 0.3, 0.2)]), ["u1"], as_of).loc["u1"]
    assert trend["method"] == "latest"
    assert trend["mean"] == 0.3
    assert math.isnan(trend["slope"])


def test_later_points_are_ignored_and_the_lookback_limits_history(make_theta, as_of):
    history = make_theta(
        [("u1", 90, 9.0, 0.1), ("u1", 10, 0.0, 0.1), ("u1", 0, 0.5, 0.1), ("u1", -3, -9.0, 0.1)]
    )
    limited = theta_trend(history, ["u1"], as_of, KpiParameters(trend_lookback_days=30)).loc["u1"]
    assert (limited["n_points"], limited["mean"]) == (2, 0.5)
    assert limited["slope"] == pytest.approx(0.05)
    assert theta_trend(history, ["u1"], as_of).loc["u1", "n_points"] == 3
