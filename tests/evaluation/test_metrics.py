"""Forecast scores: known answers, agreement with scikit-learn on random data, and their properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

from dreamseed.evaluation import (
    brier_gain_interval,
    brier_score,
    calibration_line,
    forecast_scores,
    log_loss,
    pr_auc,
    roc_auc,
)

probabilities = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@st.composite
def outcomes_and_forecasts(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(min_value=2, max_value=60))
    y = np.array(draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n)))
    # few distinct values, so ties are common
    p = np.array(
        draw(st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.7, 0.9, 1.0]), min_size=n, max_size=n))
    )
    return y, p


@settings(max_examples=200, deadline=None)
@given(outcomes_and_forecasts())
def test_roc_auc_matches_scikit_learn(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = data
    if y.min() == y.max():
        assert math.isnan(roc_auc(y, p))
    else:
        assert roc_auc(y, p) == pytest.approx(sk.roc_auc_score(y, p), abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(outcomes_and_forecasts())
def test_pr_auc_is_scikit_learns_average_precision(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = data
    if y.sum() == 0:
        assert math.isnan(pr_auc(y, p))
    else:
        assert pr_auc(y, p) == pytest.approx(sk.average_precision_score(y, p), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(outcomes_and_forecasts())
def test_brier_and_log_loss_match_scikit_learn(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = data
    assert brier_score(y, p) == pytest.approx(sk.brier_score_loss(y, p), abs=1e-12)
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    assert log_loss(y, p) == pytest.approx(sk.log_loss(y, clipped, labels=[0, 1]), rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(outcomes_and_forecasts())
def test_scores_stay_in_their_ranges(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, p = data
    scores = forecast_scores(y, p)
    assert 0.0 <= scores.brier <= 1.0
    assert scores.log_loss >= 0.0
    for value in (scores.roc_auc, scores.pr_auc):
        assert math.isnan(value) or 0.0 <= value <= 1.0
    assert scores.n == len(y)
    assert scores.positives == int(y.sum())


def test_known_answers() -> None:
    y = np.array([0, 0, 1, 1])
    assert roc_auc(y, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc(y, [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert roc_auc(y, [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert roc_auc(y, [0.1, 0.4, 0.35, 0.8]) == 0.75
    assert brier_score(y, [0, 0, 1, 1]) == 0.0
    assert brier_score(y, [1, 1, 0, 0]) == 1.0
    assert brier_score(y, [0.5] * 4) == 0.25
    assert log_loss(y, [0.5] * 4) == pytest.approx(math.log(2))
    assert pr_auc(y, [0.1, 0.2, 0.8, 0.9]) == 1.0


def test_pairs_with_a_missing_value_are_left_out() -> None:
    y = np.array([0, 1, np.nan, 1])
    p = np.array([0.2, np.nan, 0.5, 0.9])
    assert forecast_scores(y, p).n == 2
    assert brier_score(y, p) == pytest.approx((0.2**2 + 0.1**2) / 2)
    with pytest.raises(ValueError, match="differ in length"):
        brier_score([0, 1], [0.5])


def test_a_calibrated_forecast_has_slope_one_and_intercept_zero() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0.02, 0.98, 40_000)
    y = (rng.random(p.size) < p).astype(float)
    line = calibration_line(y, p)
    assert line.slope == pytest.approx(1.0, abs=0.05)
    assert line.intercept == pytest.approx(0.0, abs=0.05)


def test_overconfident_forecasts_have_a_slope_below_one() -> None:
    rng = np.random.default_rng(1)
    truth = rng.uniform(0.05, 0.95, 40_000)
    y = (rng.random(truth.size) < truth).astype(float)
    logit = np.log(truth / (1 - truth))
    overconfident = 1 / (1 + np.exp(-2 * logit))  # twice as extreme as the truth
    timid = 1 / (1 + np.exp(-0.5 * logit))
    assert calibration_line(y, overconfident).slope == pytest.approx(0.5, abs=0.05)
    assert calibration_line(y, timid).slope == pytest.approx(2.0, abs=0.1)


def test_calibration_line_is_undefined_for_one_outcome_or_constant_forecasts() -> None:
    assert math.isnan(calibration_line([1, 1, 1], [0.2, 0.5, 0.7]).slope)
    assert math.isnan(calibration_line([0, 1, 1], [0.5, 0.5, 0.5]).slope)


def test_brier_skill_compares_with_the_base_rate() -> None:
    y = np.array([0, 0, 0, 1])
    assert forecast_scores(y, [0.25] * 4).brier_skill == pytest.approx(0.0)
    assert forecast_scores(y, [0, 0, 0, 1]).brier_skill == pytest.approx(1.0)


def clustered_forecasts(n_users: int, rows_per_user: int, seed: int) -> tuple[np.ndarray, ...]:
    """Outcomes, a vague and a sharper forecast, and user ids; a user's rows share their outcome."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n_users)
    y_user = (rng.random(n_users) < truth).astype(float)
    users = np.repeat(np.arange(n_users), rows_per_user)
    y = y_user[users]
    vague = np.clip(0.5 + 0.2 * (truth[users] - 0.5) + rng.normal(0, 0.05, users.size), 0, 1)
    sharp = np.clip(truth[users] + rng.normal(0, 0.1, users.size), 0, 1)
    return y, vague, sharp, users


def test_brier_gain_interval_brackets_the_gain_and_is_reproducible() -> None:
    y, vague, sharp, users = clustered_forecasts(400, 3, seed=1)
    gain = 1 - brier_score(y, sharp) / brier_score(y, vague)
    low, high = brier_gain_interval(y, vague, sharp, users)
    assert low < gain < high
    assert 0 < high - low < 0.5
    assert brier_gain_interval(y, vague, sharp, users) == (low, high)
    assert brier_gain_interval(y, vague, vague, users) == (0.0, 0.0)


def test_brier_gain_interval_resamples_users_not_rows() -> None:
    """Repeating every user's rows adds no information: the interval is exactly the same, and
    narrower if each row counted as its own user."""
    y, vague, sharp, users = clustered_forecasts(300, 1, seed=2)
    once = brier_gain_interval(y, vague, sharp, users)
    y4, vague4, sharp4, users4 = (np.repeat(v, 4) for v in (y, vague, sharp, users))
    assert brier_gain_interval(y4, vague4, sharp4, users4) == pytest.approx(once, abs=1e-12)
    rows_as_users = brier_gain_interval(y4, vague4, sharp4, np.arange(y4.size))
    assert rows_as_users[1] - rows_as_users[0] < 0.6 * (once[1] - once[0])


def test_brier_gain_interval_leaves_out_missing_rows_and_checks_lengths() -> None:
    y, vague, sharp, users = clustered_forecasts(200, 2, seed=3)
    with_gaps = np.where(np.arange(y.size) % 5 == 0, np.nan, sharp)
    keep = ~np.isnan(with_gaps)
    assert brier_gain_interval(y, vague, with_gaps, users) == brier_gain_interval(
        y[keep], vague[keep], sharp[keep], users[keep]
    )
    assert all(math.isnan(v) for v in brier_gain_interval([np.nan], [0.5], [0.5], ["u"]))
    with pytest.raises(ValueError, match="same length"):
        brier_gain_interval(y, vague, sharp, users[:-1])
