"""irt.growth: each person's θ now and growth per day from time-stamped answers, known items."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dreamseed.irt.growth import GrowthPrior, TimedAnswers, fit_growth, likelihood_slopes


def simulated(
    n_persons: int, per_person: int, guessing: float, seed: int = 0
) -> tuple[TimedAnswers, np.ndarray, np.ndarray]:
    """Answers over the last 56 days of persons with θ_now ~ N(0, 1), slope ~ N(0.01, 0.008²)."""
    rng = np.random.default_rng(seed)
    level, slope = rng.normal(0.0, 1.0, n_persons), rng.normal(0.01, 0.008, n_persons)
    person = np.repeat(np.arange(n_persons), per_person)
    days = -rng.uniform(0.0, 56.0, person.size)
    a, b = rng.lognormal(0.2, 0.25, person.size), rng.normal(0.0, 1.0, person.size)
    c = np.full(person.size, guessing)
    theta = level[person] + slope[person] * days
    correct = rng.random(person.size) < c + (1 - c) / (1 + np.exp(-a * (theta - b)))
    return TimedAnswers(person, n_persons, days, correct, a, b, c), level, slope


@pytest.mark.parametrize("guessing", [0.0, 0.2])
def test_estimates_recover_level_and_slope_within_their_standard_errors(guessing: float) -> None:
    answers, level, slope = simulated(3000, 120, guessing)
    fit = fit_growth(answers, GrowthPrior(slope_mean=0.01, slope_sd=0.008))
    z_level = (fit.level - level) / np.sqrt(fit.level_variance)
    z_slope = (fit.slope - slope) / np.sqrt(fit.slope_variance)
    # The posterior is calibrated: standardised errors have mean ≈ 0 and SD ≈ 1.
    for z in (z_level, z_slope):
        assert abs(z.mean()) < 0.08
        assert 0.9 < z.std() < 1.1
    # 120 answers pin θ now far better than the N(0, 1) prior does.
    assert np.sqrt(np.mean((fit.level - level) ** 2)) < 0.35
    assert np.all(fit.n_answers == 120)


def test_a_steady_learner_gets_their_slope_and_the_level_of_today() -> None:
    days = np.repeat(-np.arange(56.0, 0.0, -1.0), 40)  # 40 answers a day for 56 days
    theta = 0.5 + 0.02 * days  # θ today 0.5, +0.02 a day
    b = np.tile(np.linspace(-2.0, 2.0, 40), 56) + np.repeat(theta[::40], 40)
    rng = np.random.default_rng(3)
    correct = rng.random(days.size) < 1 / (1 + np.exp(-(theta - b)))
    answers = TimedAnswers(
        np.zeros(days.size, np.intp), 1, days, correct, np.ones(days.size), b, np.zeros(days.size)
    )
    fit = fit_growth(answers, GrowthPrior(slope_mean=0.0, slope_sd=0.05))
    assert fit.level[0] == pytest.approx(0.5, abs=3 * np.sqrt(fit.level_variance[0]))
    assert fit.slope[0] == pytest.approx(0.02, abs=3 * np.sqrt(fit.slope_variance[0]))
    assert np.sqrt(fit.slope_variance[0]) < 0.005


def test_persons_without_answers_keep_the_prior() -> None:
    answers, _, _ = simulated(5, 30, 0.0)
    more = TimedAnswers(answers.person, 7, answers.days, answers.correct, answers.a, answers.b, answers.c)
    prior = GrowthPrior(slope_mean=0.01, slope_sd=0.005, level_mean=0.2, level_sd=0.9)
    fit = fit_growth(more, prior)
    assert fit.n_answers.tolist() == [30] * 5 + [0, 0]
    assert fit.level[5:].tolist() == [0.2, 0.2]
    assert fit.slope[5:] == pytest.approx([0.01, 0.01])
    assert fit.level_variance[5:] == pytest.approx([0.81, 0.81])
    assert fit.slope_variance[5:] == pytest.approx([0.005**2] * 2)
    assert fit.covariance[5:] == pytest.approx([0.0, 0.0])
    slope, slope_se = likelihood_slopes(fit, prior)
    assert np.isnan(slope[5:]).all()
    assert np.isnan(slope_se[5:]).all()


def test_likelihood_slopes_undo_the_prior() -> None:
    """Fitting under a narrow prior and dividing it out gives what a flat prior gives."""
    answers, _, _ = simulated(200, 80, 0.0, seed=5)
    flat = fit_growth(answers, GrowthPrior(slope_mean=0.0, slope_sd=10.0, level_sd=100.0))
    narrow_prior = GrowthPrior(slope_mean=0.01, slope_sd=0.01)
    slope, slope_se = likelihood_slopes(fit_growth(answers, narrow_prior), narrow_prior)
    # Quadratic approximations at different modes: equal to within a small share of the SE.
    difference = np.abs(slope - flat.slope) / slope_se
    assert np.median(difference) < 0.02
    assert np.quantile(difference, 0.95) < 0.3
    ratio = slope_se / np.sqrt(flat.slope_variance)
    assert 0.95 < np.median(ratio) < 1.05
    assert np.quantile(np.abs(ratio - 1), 0.9) < 0.1


def test_answers_of_a_single_day_say_nothing_about_the_slope() -> None:
    answers = TimedAnswers(
        np.zeros(10, np.intp),
        1,
        np.full(10, -3.0),
        np.arange(10) % 2 == 0,
        np.ones(10),
        np.zeros(10),
        np.zeros(10),
    )
    prior = GrowthPrior(slope_mean=0.0, slope_sd=0.05)
    fit = fit_growth(answers, prior)
    # θ(−3) = level − 3·slope is pinned: level and slope move together; the slope stays the prior's.
    assert fit.slope[0] == pytest.approx(0.0, abs=1e-9)
    assert fit.covariance[0] > 0
    slope, _ = likelihood_slopes(fit, prior)
    assert np.isnan(slope[0])


@settings(max_examples=40, deadline=None)
@given(
    outcomes=st.lists(st.booleans(), min_size=1, max_size=30),
    guessing=st.sampled_from([0.0, 0.25]),
    spread=st.floats(0.0, 60.0),
)
def test_any_answer_pattern_gives_finite_estimates_and_positive_variances(
    outcomes: list[bool], guessing: float, spread: float
) -> None:
    n = len(outcomes)
    answers = TimedAnswers(
        np.zeros(n, np.intp),
        1,
        -np.linspace(0.0, spread, n),
        np.array(outcomes),
        np.full(n, 1.5),
        np.linspace(-3.0, 3.0, n),
        np.full(n, guessing),
    )
    fit = fit_growth(answers, GrowthPrior(slope_mean=0.005, slope_sd=0.02))
    assert np.isfinite([fit.level[0], fit.slope[0], fit.covariance[0]]).all()
    assert fit.level_variance[0] > 0
    assert fit.slope_variance[0] > 0
    assert fit.level_variance[0] * fit.slope_variance[0] > fit.covariance[0] ** 2
    assert fit.level_variance[0] <= 1.0 + 1e-9
    assert fit.slope_variance[0] <= 0.02**2 + 1e-12


def test_prior_sds_must_be_positive() -> None:
    with pytest.raises(ValueError, match="prior SDs must be > 0"):
        GrowthPrior(slope_mean=0.0, slope_sd=0.0)
