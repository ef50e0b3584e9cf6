"""The θ trend per user (``ability_estimates``): latest θ and SE, and a 1/se²-weighted slope."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dreamseed.kpis import _grouped
from dreamseed.kpis._inputs import DAY_NS, user_index
from dreamseed.kpis._labels import labels_where
from dreamseed.kpis.parameters import KpiParameters
from dreamseed.kpis.theta_history import ThetaPoints, prepare_theta_history

TREND_COLUMNS = ("mean", "sd", "slope", "slope_se", "n_points", "method")
_MIN_SPREAD_DAYS2 = 1e-9
"""Weighted spread of fit times (days²) below which the points count as one time."""


def theta_trend(
    theta_history: pd.DataFrame | None,
    users: Iterable[str] | pd.Index | pd.Series,
    as_of: date,
    parameters: KpiParameters | None = None,
) -> pd.DataFrame:
    """The θ trend of each user as of ``as_of`` (columns ``TREND_COLUMNS``, index user_id).

    Uses the history points fitted on or before ``as_of`` (UTC date), within
    ``parameters.trend_lookback_days`` when set. See ``trend_of_points`` for the columns.
    """
    index = user_index(users)
    points = prepare_theta_history(theta_history, index, as_of)
    return trend_of_points(points, index, parameters or KpiParameters())


def trend_of_points(points: ThetaPoints, users: pd.Index, parameters: KpiParameters) -> pd.DataFrame:
    """Per user: mean, sd, slope, slope_se, n_points, method.

    mean, sd: θ and SE of the latest point (ties: the last row). slope (θ per day) and slope_se
    from weighted least squares of θ on fit time with weights 1/se². An unknown SE (null, ≤ 0)
    is replaced by the median of the user's known SEs. With n ≥ 3 points the slope variance
    1/Σw(t−t̄)² is scaled by max(1, χ²/(n−2)) (extra scatter of θ beyond its SEs).
    method: "wls"; "ols" when none of the user's SEs is known (equal weights, variance from the
    residuals, slope_se null with 2 points, sd null); "latest" with one point or one fit time
    (slope and slope_se null); None without points (all null, n_points 0).
    """
    if parameters.trend_lookback_days is not None:
        points = points.select(points.days_ago < parameters.trend_lookback_days)
    n_users, user = len(users), points.user
    typical_se = _grouped.medians(user[~np.isnan(points.se)], points.se[~np.isnan(points.se)], n_users)
    has_se = ~np.isnan(typical_se)
    se = np.where(np.isnan(points.se), typical_se[user], points.se)
    weight = np.where(has_se[user], 1.0 / np.where(has_se[user], se, 1.0) ** 2, 1.0)
    n_points = _grouped.counts(user, n_users)
    slope, variance = _weighted_slope(points, weight, has_se, n_points)
    latest = _grouped.latest_rows(user, points.fitted_ns, n_users)
    found, sloped = latest >= 0, ~np.isnan(slope)
    method = labels_where([(found & ~sloped, "latest"), (found & has_se, "wls"), (found, "ols")], n_users)
    return pd.DataFrame(
        {
            "mean": _grouped.take_or_nan(points.theta, latest),
            "sd": _grouped.take_or_nan(se, latest),
            "slope": slope,
            "slope_se": np.sqrt(variance),
            "n_points": n_points,
            "method": pd.Series(method, index=users, dtype=object),
        },
        index=users,
    )


def _weighted_slope(
    points: ThetaPoints, weight: NDArray[np.float64], has_se: NDArray[np.bool_], n_points: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(slope in θ/day, its variance) per user; NaN where undefined. Shapes (n_users,)."""
    n, user = points.n_users, points.user
    days = (points.fitted_ns - (points.fitted_ns.min() if len(user) else 0)) / DAY_NS
    total_weight = _grouped.sums(user, weight, n)
    safe_total = np.where(total_weight > 0, total_weight, 1.0)
    day_centred = days - (_grouped.sums(user, weight * days, n) / safe_total)[user]
    theta_centred = points.theta - (_grouped.sums(user, weight * points.theta, n) / safe_total)[user]
    spread = _grouped.sums(user, weight * day_centred**2, n)
    sloped = spread > _MIN_SPREAD_DAYS2 * safe_total
    slope = np.divide(
        _grouped.sums(user, weight * day_centred * theta_centred, n),
        spread,
        out=np.full(n, np.nan),
        where=sloped,
    )
    residual = theta_centred - np.nan_to_num(slope)[user] * day_centred
    chi2 = _grouped.sums(user, weight * residual**2, n)
    dof = np.maximum(n_points - 2, 1)
    known_variance = np.divide(1.0, spread, out=np.full(n, np.nan), where=sloped)
    scatter = chi2 / dof
    variance = np.where(
        has_se,
        known_variance * np.where(n_points >= 3, np.maximum(1.0, scatter), 1.0),
        np.where(n_points >= 3, known_variance * scatter, np.nan),
    )
    return slope, variance
