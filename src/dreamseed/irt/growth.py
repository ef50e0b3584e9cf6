"""Each person's θ now and its growth per day, fitted to their time-stamped answers (known items).

θ_p(t) = level_p + slope_p·t, with t in days from a reference time (the run's end: t ≤ 0 for past
answers), so ``level`` is θ at the reference time and ``slope`` its growth per day. Answers follow
the items' logistic model P = c + (1 − c)·σ(a·(θ(t) − b)); level ~ N(level_mean, level_sd²) and
slope ~ N(slope_mean, slope_sd²) a priori. The estimate is the posterior mode (Fisher scoring, every
person at once, a closed-form 2×2 solve each), its covariance the inverse of the posterior
information there (Laplace).

Why not the slope of weekly θ estimates: each weekly θ is fitted on a trailing 30-day window, so it
describes θ about two weeks before its date, consecutive points share most of their answers
(correlated errors that make a least-squares slope's standard error meaningless), and a newcomer's
first windows are short, which halves their apparent growth. Fitting the line to the answers
themselves has none of these problems.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dreamseed.irt.item_model import PROBABILITY_FLOOR, logistic

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

MAX_ITERATIONS = 30
TOLERANCE = 1e-3
"""A person's estimates have converged when neither the level (θ) nor the slope times 30 days moves
by more than this (θ's standard errors are around 0.3)."""
_MAX_LEVEL_STEP = 1.0
_MAX_SLOPE_STEP = 0.05


@dataclass(frozen=True)
class GrowthPrior:
    """Normal priors on each person's level (θ at the reference time) and slope (θ per day)."""

    slope_mean: float
    slope_sd: float
    level_mean: float = 0.0
    level_sd: float = 1.0

    def __post_init__(self) -> None:
        if not (self.slope_sd > 0 and self.level_sd > 0):
            raise ValueError(f"prior SDs must be > 0, got slope_sd={self.slope_sd}, level_sd={self.level_sd}")


@dataclass(frozen=True)
class GrowthEstimates:
    """Posterior mode and covariance per person; arrays of shape (n_persons,).

    Persons without answers keep the prior (``n_answers`` 0).
    """

    level: FloatArray
    slope: FloatArray
    level_variance: FloatArray
    slope_variance: FloatArray
    covariance: FloatArray
    """Posterior covariance of level and slope (θ²/day)."""
    n_answers: IntArray


@dataclass(frozen=True)
class TimedAnswers:
    """Answers as parallel arrays of shape (n_answers,): whose (``person``, 0..n_persons−1), when
    (``days`` from the reference time), right or wrong, and the answered item's a, b, c."""

    person: IntArray
    n_persons: int
    days: FloatArray
    correct: npt.NDArray[np.bool_]
    a: FloatArray
    b: FloatArray
    c: FloatArray


def fit_growth(answers: TimedAnswers, prior: GrowthPrior) -> GrowthEstimates:
    """Every person's MAP level and slope under ``prior`` and their Laplace covariance.

    The covariance uses the information at each person's last iterate (less than TOLERANCE from
    the mode), which saves a pass over every answer.
    """
    n = answers.n_persons
    level = np.full(n, prior.level_mean)
    slope = np.full(n, prior.slope_mean)
    h_ll, h_ls, h_ss = np.empty(n), np.empty(n), np.empty(n)
    model = _AnswerModel(answers)
    for _ in range(MAX_ITERATIONS):
        ids = model.persons
        gradient, information = model.score_and_information(level[ids], slope[ids], prior)
        h_ll[ids], h_ls[ids], h_ss[ids] = information
        step_level, step_slope = _solve(information, gradient)
        level[ids] += np.clip(step_level, -_MAX_LEVEL_STEP, _MAX_LEVEL_STEP)
        slope[ids] += np.clip(step_slope, -_MAX_SLOPE_STEP, _MAX_SLOPE_STEP)
        moving = np.maximum(np.abs(step_level), 30.0 * np.abs(step_slope)) >= TOLERANCE
        if not moving.any():
            break
        if moving.mean() < 0.8:  # many have converged: iterate on the others' answers only
            model = model.of_persons(moving)
    determinant = h_ll * h_ss - h_ls**2
    return GrowthEstimates(
        level=level,
        slope=slope,
        level_variance=h_ss / determinant,
        slope_variance=h_ll / determinant,
        covariance=-h_ls / determinant,
        n_answers=np.bincount(answers.person, minlength=n).astype(np.intp),
    )


def likelihood_slopes(estimates: GrowthEstimates, prior: GrowthPrior) -> tuple[FloatArray, FloatArray]:
    """What each person's answers alone say about their slope: (estimate, SE), shapes (n_persons,).

    The data's information J is the posterior information (the inverse of the covariance) less the
    priors'; the estimate is one Newton step from the posterior mode without the priors (exact where
    the log-likelihood is quadratic), its variance that of a flat prior on both, (J⁻¹)_ss. NaN where
    the answers carry (almost) no information on the slope: none, or all on one day. Feed these to
    a population estimate (``kpis.estimate_slope_prior``).
    """
    determinant = estimates.level_variance * estimates.slope_variance - estimates.covariance**2
    h_ll = estimates.slope_variance / determinant  # the posterior information, 2×2 inverse
    h_ls = -estimates.covariance / determinant
    h_ss = estimates.level_variance / determinant
    j_ll, j_ls, j_ss = h_ll - 1.0 / prior.level_sd**2, h_ls, h_ss - 1.0 / prior.slope_sd**2
    data_determinant = j_ll * j_ss - j_ls**2
    slope_precision = np.divide(
        data_determinant, j_ll, out=np.zeros_like(j_ll), where=(j_ll > 0) & (data_determinant > 0)
    )
    informative = slope_precision > 1e-6 / prior.slope_sd**2
    # At the mode the data's gradient cancels the priors': (L − m)/σ_L² and (β − μ)/σ_β².
    g_level = (estimates.level - prior.level_mean) / prior.level_sd**2
    g_slope = (estimates.slope - prior.slope_mean) / prior.slope_sd**2
    safe_determinant = np.where(informative, data_determinant, 1.0)
    slope = estimates.slope + (j_ll * g_slope - j_ls * g_level) / safe_determinant
    slope_se = 1.0 / np.sqrt(np.where(informative, slope_precision, 1.0))
    return np.where(informative, slope, np.nan), np.where(informative, slope_se, np.nan)


class _AnswerModel:
    """The answers with what every iteration reuses precomputed (a², a·b, the 2PL shortcut)."""

    def __init__(self, answers: TimedAnswers) -> None:
        self.persons = np.arange(answers.n_persons)
        """Which persons of the fit the codes 0..n−1 in ``person`` stand for."""
        self.person, self.days, self.n = answers.person, answers.days, answers.n_persons
        self.correct = answers.correct.astype(np.float64)
        self.a, self.ab, self.a2 = answers.a, answers.a * answers.b, answers.a**2
        self.guessing: tuple[FloatArray, FloatArray] | None = (
            (answers.c, 1.0 - answers.c) if bool(np.any(answers.c != 0)) else None
        )
        """(c, 1 − c) per answer; None when no item has a guessing parameter (the 2PL's shortcut)."""

    def of_persons(self, keep: npt.NDArray[np.bool_]) -> _AnswerModel:
        """The same model restricted to the persons where ``keep`` (shape (n,)) and their answers."""
        kept = keep[self.person]
        subset = copy.copy(self)
        subset.persons, subset.n = self.persons[keep], int(keep.sum())
        subset.person = (np.cumsum(keep) - 1)[self.person[kept]]
        for name in ("days", "correct", "a", "ab", "a2"):
            setattr(subset, name, getattr(self, name)[kept])
        subset.guessing = None if self.guessing is None else (self.guessing[0][kept], self.guessing[1][kept])
        return subset

    def score_and_information(
        self, level: FloatArray, slope: FloatArray, prior: GrowthPrior
    ) -> tuple[tuple[FloatArray, FloatArray], tuple[FloatArray, FloatArray, FloatArray]]:
        """Gradient (level, slope) and expected information (ll, ls, ss) of the log posterior."""
        person, days, n = self.person, self.days, self.n
        x = slope[person]
        x *= days
        x += level[person]
        x *= self.a
        x -= self.ab
        s = logistic(x)  # σ(a·(θ(t) − b))
        if self.guessing is None:  # 2PL: score a·(y − P), information a²·P·(1 − P)
            score = (self.correct - s) * self.a
            information = s * (1.0 - s) * self.a2
        else:  # 3PL: with P − c = (1 − c)·s
            c, not_c = self.guessing
            p = np.clip(not_c * s + c, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
            s_over_p = s / p
            score = (self.correct - p) * s_over_p * self.a
            information = (1.0 - p) * s_over_p * s * self.a2
        weighted = information * days
        level_precision, slope_precision = 1.0 / prior.level_sd**2, 1.0 / prior.slope_sd**2
        gradient = (
            _sums(person, score, n) - (level - prior.level_mean) * level_precision,
            _sums(person, score * days, n) - (slope - prior.slope_mean) * slope_precision,
        )
        information_sums = (
            _sums(person, information, n) + level_precision,
            _sums(person, weighted, n),
            _sums(person, weighted * days, n) + slope_precision,
        )
        return gradient, information_sums


def _sums(person: IntArray, values: FloatArray, n: int) -> FloatArray:
    """Per person totals of ``values``, shape (n,)."""
    return np.bincount(person, values, n).astype(np.float64, copy=False)


def _solve(
    information: tuple[FloatArray, FloatArray, FloatArray], gradient: tuple[FloatArray, FloatArray]
) -> tuple[FloatArray, FloatArray]:
    """information⁻¹ · gradient for every person's 2×2 system (positive definite by the priors)."""
    h_ll, h_ls, h_ss = information
    g_level, g_slope = gradient
    determinant = h_ll * h_ss - h_ls**2
    return (h_ss * g_level - h_ls * g_slope) / determinant, (h_ll * g_slope - h_ls * g_level) / determinant
