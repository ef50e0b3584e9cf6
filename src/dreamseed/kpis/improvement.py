"""I_t, the improvement index over two 14-day windows (DESIGN §5), and the reliable change I_t_z."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dreamseed.kpis import _grouped
from dreamseed.kpis._labels import labels_where
from dreamseed.kpis.attempts import AttemptArrays
from dreamseed.kpis.parameters import KpiParameters
from dreamseed.kpis.theta_history import ThetaPoints

WINDOW_DAYS = 14
FULL_EXPOSURE_ATTEMPTS = 30
THETA_MODE_MIN_ATTEMPTS = 5


def improvement_index(attempts: AttemptArrays, theta: ThetaPoints, parameters: KpiParameters) -> pd.DataFrame:
    """Per user: I_t in [−1, 1], I_t_z, I_t_mode ("theta" / "accuracy" / None) and n_recent.

    Windows: recent = [as_of−13, as_of], previous = [as_of−27, as_of−14]. θ mode when
    ``parameters.use_theta``, n_recent ≥ 5 and both windows hold a θ; else the accuracy fallback,
    null when either window has no attempt with known correctness. I_t_z is null outside θ mode
    or when a window's SE is unknown.
    """
    known = attempts.correct_known
    recent = known & attempts.in_days(0, WINDOW_DAYS - 1)
    previous = known & attempts.in_days(WINDOW_DAYS, 2 * WINDOW_DAYS - 1)
    n_recent = _grouped.counts(attempts.user[recent], attempts.n_users)
    exposure = np.minimum(1.0, n_recent / FULL_EXPOSURE_ATTEMPTS)
    by_accuracy = _accuracy_improvement(attempts, recent, previous, exposure)
    theta_recent, se_recent = theta.latest_in_days(0, WINDOW_DAYS - 1)
    theta_previous, se_previous = theta.latest_in_days(WINDOW_DAYS, 2 * WINDOW_DAYS - 1)
    theta_mode = (
        parameters.use_theta
        & (n_recent >= THETA_MODE_MIN_ATTEMPTS)
        & ~np.isnan(theta_recent)
        & ~np.isnan(theta_previous)
    )
    change = theta_recent - theta_previous
    by_theta = np.clip(change * exposure * _se_penalty(se_recent), -1.0, 1.0)
    mode = labels_where([(theta_mode, "theta"), (~np.isnan(by_accuracy), "accuracy")], attempts.n_users)
    return pd.DataFrame(
        {
            "I_t": np.where(theta_mode, by_theta, by_accuracy),
            "I_t_z": np.where(theta_mode, _reliable_change(change, se_recent, se_previous), np.nan),
            "I_t_mode": pd.Series(mode, index=attempts.users, dtype=object),
            "n_recent": n_recent,
        },
        index=attempts.users,
    )


def _accuracy_improvement(
    attempts: AttemptArrays,
    recent: NDArray[np.bool_],
    previous: NDArray[np.bool_],
    exposure: NDArray[np.float64],
) -> NDArray[np.float64]:
    """clamp((p_r − p_p)·exposure·penalty, −1, 1) per user; NaN when either window is empty."""
    n = attempts.n_users
    correct = attempts.correct.astype(np.float64)
    n_r = _grouped.counts(attempts.user[recent], n)
    n_p = _grouped.counts(attempts.user[previous], n)
    both = (n_r > 0) & (n_p > 0)
    p_r = np.divide(
        _grouped.sums(attempts.user[recent], correct[recent], n), n_r, where=both, out=np.zeros(n)
    )
    p_p = np.divide(
        _grouped.sums(attempts.user[previous], correct[previous], n), n_p, where=both, out=np.zeros(n)
    )
    half_width = 1.96 * np.sqrt(p_r * (1.0 - p_r) / np.maximum(1, n_r))
    penalty = 1.0 - np.minimum(0.5, half_width)
    return np.where(both, np.clip((p_r - p_p) * exposure * penalty, -1.0, 1.0), np.nan)


def _se_penalty(se_recent: NDArray[np.float64]) -> NDArray[np.float64]:
    """1 − min(0.5, 1.96·se); 1 where the SE is unknown."""
    return np.where(np.isnan(se_recent), 1.0, 1.0 - np.minimum(0.5, 1.96 * np.nan_to_num(se_recent)))


def _reliable_change(
    change: NDArray[np.float64], se_recent: NDArray[np.float64], se_previous: NDArray[np.float64]
) -> NDArray[np.float64]:
    """(θ_recent − θ_prev)/√(se_r² + se_p²); NaN where either SE is unknown."""
    scale = np.sqrt(se_recent**2 + se_previous**2)
    return np.divide(change, scale, out=np.full(len(change), np.nan), where=scale > 0)
