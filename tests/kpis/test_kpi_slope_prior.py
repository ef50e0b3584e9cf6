"""The θ slope prior (empirical Bayes) and the shrunk slopes P's trend form projects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import ndtr

from dreamseed.kpis import (
    SlopePrior,
    estimate_slope_prior,
    projection_trend,
    shrunk_slopes,
    trend_probability,
)
from dreamseed.kpis.slope_prior import DEFAULT_PRIOR_SD, MIN_SLOPES


def _trends(slope: np.ndarray, slope_se: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"slope": slope, "slope_se": slope_se})


def test_the_prior_recovers_the_population_of_true_slopes() -> None:
    rng = np.random.default_rng(5)
    true = rng.normal(0.005, 0.004, 4000)
    se = rng.uniform(0.002, 0.02, 4000)
    prior = estimate_slope_prior(_trends(true + rng.normal(0, se), se))
    assert prior.estimated
    assert prior.mean == pytest.approx(0.005, abs=0.0005)
    assert prior.sd == pytest.approx(0.004, abs=0.0008)
    assert prior.n_users == 4000


def test_slopes_that_are_all_noise_give_the_smallest_spread() -> None:
    rng = np.random.default_rng(6)
    se = np.full(2000, 0.02)
    prior = estimate_slope_prior(_trends(0.003 + rng.normal(0, se), se))
    # τ at its floor, 0.002/day, plus the uncertainty of the mean: (0.02² + 0.002²)/2000.
    assert prior.sd == pytest.approx(np.sqrt(0.002**2 + (0.02**2 + 0.002**2) / 2000), rel=1e-4)


def test_barely_informative_slopes_widen_the_prior_by_the_uncertainty_of_its_mean() -> None:
    rng = np.random.default_rng(8)
    se = np.full(40, 0.1)  # e.g. a platform's first days: slopes from answers spanning a few days
    prior = estimate_slope_prior(_trends(rng.normal(0.01, 0.1, 40), se))
    assert prior.estimated
    assert prior.sd >= 0.1 / np.sqrt(40)


def test_too_few_usable_slopes_give_the_default_prior_of_no_growth() -> None:
    slope = np.r_[np.full(MIN_SLOPES - 1, 0.01), np.nan, 0.02]
    se = np.r_[np.full(MIN_SLOPES - 1, 0.01), 0.01, np.nan]
    prior = estimate_slope_prior(_trends(slope, se))
    assert prior == SlopePrior(mean=0.0, sd=DEFAULT_PRIOR_SD, n_users=MIN_SLOPES - 1, estimated=False)


def test_shrinkage_is_the_normal_posterior() -> None:
    prior = SlopePrior(mean=0.01, sd=0.01, n_users=100)
    mean, variance = shrunk_slopes(
        np.array([0.03, 0.03, np.nan, 0.05]), np.array([0.01, 0.001, np.nan, 0.0]), prior
    )
    np.testing.assert_allclose(mean[:3], [0.02, 0.03 - (0.02 / 101), 0.01])
    np.testing.assert_allclose(variance[:3], [0.00005, 1 / (1e6 + 1e4), 0.0001])
    assert (mean[3], variance[3]) == (0.05, 0.0)  # an exact slope stays exact


@given(
    slope=st.floats(-1, 1),
    se=st.floats(1e-4, 1),
    prior_mean=st.floats(-0.1, 0.1),
    prior_sd=st.floats(1e-4, 0.5),
)
def test_the_posterior_lies_between_slope_and_prior_with_less_variance(
    slope: float, se: float, prior_mean: float, prior_sd: float
) -> None:
    mean, variance = shrunk_slopes(np.array([slope]), np.array([se]), SlopePrior(prior_mean, prior_sd, 30))
    low, high = sorted((slope, prior_mean))
    assert low - 1e-12 <= mean[0] <= high + 1e-12
    assert 0 < variance[0] <= min(se**2, prior_sd**2) * (1 + 1e-12)


def test_one_theta_point_gets_a_trend_p_from_the_prior() -> None:
    history = pd.DataFrame(
        {"mean": [0.2], "sd": [0.3], "slope": [np.nan], "slope_se": [np.nan]}, index=["u1"]
    )
    target, days = np.array([0.5]), np.array([30.0])
    assert np.isnan(trend_probability(projection_trend(None, history, None), target, days, 0.01))
    prior = SlopePrior(mean=0.01, sd=0.005, n_users=100)
    expected = ndtr((0.2 + 0.01 * 30 - 0.5) / np.sqrt(0.3**2 + 30**2 * 0.005**2 + 0.01 * 30))
    trend = projection_trend(None, history, prior)
    assert trend["source"].tolist() == ["history"]
    assert trend_probability(trend, target, days, 0.01)[0] == pytest.approx(expected)
