"""A population prior on θ slopes, and each user's slope shrunk towards it (empirical Bayes).

One user's slope from a few noisy θ points is mostly noise (its standard error is typically as
large as the spread of true growth rates), so projecting it as is makes P swing. Treating the
users' true slopes as draws from N(mean, sd²), estimated from all users' slopes and their
standard errors by maximum marginal likelihood, each user's slope becomes the normal posterior
mean: precise slopes stay, noisy ones move towards the population's. Users with one θ point get
the population slope and its spread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.optimize import minimize_scalar

MIN_SLOPES = 30
"""With fewer users with a slope than this (a new platform), the prior is ``DEFAULT_PRIOR_SD`` around
no growth instead of an estimate (which would be noise itself)."""
DEFAULT_PRIOR_SD = 0.02
"""θ/day (0.14 θ a week): wide enough to say "growth unknown" without letting P swing to 0 or 1."""
_SD_BOUNDS = (0.002, DEFAULT_PRIOR_SD)
"""Range of the prior's sd (θ/day). Below: everyone would get the population's slope, however their
answers grew (0.014 θ a week of spread is kept). Above: a spread wider than the default prior's says
nothing more, and it is what a platform's first week (answers spanning a few days) estimates."""


@dataclass(frozen=True)
class SlopePrior:
    """True θ slopes across users ~ N(mean, sd²), in θ per day, estimated from ``n_users`` slopes
    (``estimated`` False: too few, the default prior)."""

    mean: float
    sd: float
    n_users: int
    estimated: bool = True


def default_slope_prior(n_users: int = 0) -> SlopePrior:
    """No growth expected, ± DEFAULT_PRIOR_SD θ/day: the prior when none is estimated (``n_users``:
    how many usable slopes there were)."""
    return SlopePrior(mean=0.0, sd=DEFAULT_PRIOR_SD, n_users=n_users, estimated=False)


def estimate_slope_prior(trend: pd.DataFrame) -> SlopePrior:
    """The prior maximising the marginal likelihood of the users' slopes, Σ log N(β̂ᵢ; μ, vᵢ + τ²).

    ``trend``: slope and slope_se in θ/day per user (``theta_trend``'s frame, or the answers'
    ``likelihood_slopes``). Users without a slope or with an unknown or zero slope_se are left out;
    with fewer than ``MIN_SLOPES`` left, the default N(0, DEFAULT_PRIOR_SD²). For a given τ the best
    μ is the 1/(vᵢ + τ²)-weighted mean. The prior's sd is √(τ² + SE(μ)²): a user's slope is
    uncertain by the population's spread and by how well its mean is known (which matters when
    the slopes are barely informative, e.g. a platform's first weeks).
    """
    slope = trend["slope"].to_numpy(dtype=np.float64, na_value=np.nan)
    variance = trend["slope_se"].to_numpy(dtype=np.float64, na_value=np.nan) ** 2
    usable = np.isfinite(slope) & np.isfinite(variance) & (variance > 0)
    slope, variance = slope[usable], variance[usable]
    if len(slope) < MIN_SLOPES:
        return default_slope_prior(len(slope))

    def mean_for(sd: float) -> float:
        weight = 1.0 / (variance + sd**2)
        return float(np.sum(weight * slope) / np.sum(weight))

    def negative_log_likelihood(log_sd: float) -> float:
        total = variance + np.exp(2.0 * log_sd)
        return float(0.5 * np.sum(np.log(total) + (slope - mean_for(np.exp(log_sd))) ** 2 / total))

    best = minimize_scalar(negative_log_likelihood, bounds=np.log(_SD_BOUNDS), method="bounded")
    spread = float(np.exp(best.x))
    mean_variance = 1.0 / float(np.sum(1.0 / (variance + spread**2)))
    return SlopePrior(mean=mean_for(spread), sd=float(np.sqrt(spread**2 + mean_variance)), n_users=len(slope))


def shrunk_slopes(
    slope: NDArray[np.float64], slope_se: NDArray[np.float64], prior: SlopePrior
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Posterior mean and variance of each user's slope under ``prior`` (shapes of ``slope``).

    With slope β̂ and variance v: variance = 1/(1/v + 1/τ²), mean = variance·(β̂/v + μ/τ²).
    Where the slope or its SE is unknown (or the SE is 0), the prior itself: μ and τ² (a zero SE
    keeps β̂ exactly, with variance 0).
    """
    variance = slope_se**2
    known = np.isfinite(slope) & np.isfinite(variance)
    exact = known & (variance == 0)
    noisy = known & ~exact
    safe_variance = np.where(noisy, variance, 1.0)
    precision = np.where(noisy, 1.0 / safe_variance, 0.0) + 1.0 / prior.sd**2
    posterior_variance = np.where(exact, 0.0, 1.0 / precision)
    posterior_mean = np.where(
        exact,
        slope,
        posterior_variance * (np.where(noisy, slope / safe_variance, 0.0) + prior.mean / prior.sd**2),
    )
    return posterior_mean, posterior_variance
