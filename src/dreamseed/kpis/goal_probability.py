"""P, the probability of reaching the goal θ*: the original static form and the θ-trend projection."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import ndtr

from dreamseed.kpis._inputs import codes_in, date_day_numbers, day_number, float_or_nan, require_columns
from dreamseed.kpis._labels import labels_where
from dreamseed.kpis.parameters import KpiParameters

ABILITY_COLUMNS = ("user_id", "mean", "sd")
GOAL_COLUMNS = ("user_id", "target_level", "target_date")


def goal_targets(goals: pd.DataFrame | None, users: pd.Index, default_target: float) -> pd.DataFrame:
    """Per user: ``target_level`` θ* (default where no goal or a null level) and ``target_day``.

    ``target_day`` = days since the epoch of target_date (NaN without one). With several goals
    per user the one with the highest ``priority`` (if that column exists), then the earliest
    target_date (null last), then the first row, wins.
    """
    level, day = np.full(len(users), np.nan), np.full(len(users), np.nan)
    if goals is not None and not goals.empty:
        require_columns(goals, GOAL_COLUMNS, "goals")
        ranked = pd.DataFrame(
            {
                "user": codes_in(users, goals["user_id"]),
                "priority": float_or_nan(goals["priority"]) if "priority" in goals else 0.0,
                "day": date_day_numbers(goals["target_date"]),
                "level": float_or_nan(goals["target_level"]),
            }
        )
        ranked["priority"] = ranked["priority"].fillna(0.0)
        ranked = ranked[ranked["user"] >= 0].sort_values(
            ["priority", "day"], ascending=[False, True], na_position="last", kind="stable"
        )
        first = ranked.drop_duplicates("user", keep="first")
        level[first["user"].to_numpy()] = first["level"].to_numpy()
        day[first["user"].to_numpy()] = first["day"].to_numpy()
    level = np.where(np.isnan(level), default_target, level)
    return pd.DataFrame({"target_level": level, "target_day": day}, index=users)


def static_probability(
    abilities: pd.DataFrame | None, users: pd.Index, target: NDArray[np.float64]
) -> NDArray[np.float64]:
    """P_static = 1 − Φ((θ* − μ)/σ) per user from ``abilities`` (``ABILITY_COLUMNS``; the last row
    per user wins); NaN where μ or σ is missing or σ ≤ 0. Shape (n_users,).
    """
    mean, sd = np.full(len(users), np.nan), np.full(len(users), np.nan)
    if abilities is not None and not abilities.empty:
        require_columns(abilities, ABILITY_COLUMNS, "abilities")
        abilities = abilities.drop_duplicates("user_id", keep="last")
        user = codes_in(users, abilities["user_id"])
        found = user >= 0
        mean[user[found]] = float_or_nan(abilities["mean"])[found]
        sd[user[found]] = float_or_nan(abilities["sd"])[found]
    usable = np.isfinite(mean) & np.isfinite(sd) & (sd > 0)
    with np.errstate(over="ignore"):  # a z of ±inf gives the right limit, P = 0 or 1
        z = np.divide(target - mean, sd, out=np.zeros(len(users)), where=usable)
    return np.where(usable, 1.0 - ndtr(z), np.nan)


def trend_probability(
    trend: pd.DataFrame,
    target: NDArray[np.float64],
    days_to_target: NDArray[np.float64],
    process_noise: float,
) -> NDArray[np.float64]:
    """P_trend = Φ((μ_T − θ*)/σ_T), μ_T = θ_now + β·Δt, σ_T² = s_now² + Δt²·Var(β) + 2Δt·Cov + q·Δt.

    ``trend`` holds mean (θ_now), sd (s_now), slope (β, θ/day), slope_se (√Var(β)) and, optionally,
    level_slope_cov (Cov(θ_now, β); 0 without the column) per user, shape (n_users,) each;
    ``days_to_target`` = Δt ≥ 0 (NaN without a target date). NaN where any input is missing or σ_T = 0.
    """
    theta_now, s_now = trend["mean"].to_numpy(float), trend["sd"].to_numpy(float)
    slope, slope_se = trend["slope"].to_numpy(float), trend["slope_se"].to_numpy(float)
    covariance = trend["level_slope_cov"].to_numpy(float) if "level_slope_cov" in trend else 0.0
    mean_at_target = theta_now + slope * days_to_target
    variance = (
        s_now**2
        + days_to_target**2 * slope_se**2
        + 2.0 * days_to_target * covariance
        + process_noise * days_to_target
    )
    sd_at_target = np.sqrt(np.maximum(variance, 0.0))
    usable = np.isfinite(mean_at_target) & np.isfinite(sd_at_target) & (sd_at_target > 0)
    with np.errstate(over="ignore"):  # a z of ±inf gives the right limit, P = 0 or 1
        z = np.divide(mean_at_target - target, sd_at_target, out=np.zeros(len(target)), where=usable)
    return np.where(usable, ndtr(z), np.nan)


def goal_attainment_probability(
    users: pd.Index,
    abilities: pd.DataFrame | None,
    goals: pd.DataFrame | None,
    trend: pd.DataFrame,
    as_of: date,
    parameters: KpiParameters,
) -> pd.DataFrame:
    """Per user: P, P_static, P_trend, P_method ("trend" / "static" / None) and P_target (θ*).

    ``trend``: ``trend_probability``'s inputs for the same users (``projection_trend``'s frame).
    Δt = days from ``as_of`` to the goal's target_date, clipped at 0. P follows ``parameters.p_method``.
    """
    targets = goal_targets(goals, users, parameters.default_target)
    target = targets["target_level"].to_numpy()
    days_to_target = np.maximum(0.0, targets["target_day"].to_numpy() - day_number(as_of))
    p_static = static_probability(abilities, users, target)
    p_trend = trend_probability(
        trend.reindex(users), target, days_to_target, parameters.process_noise_per_day
    )
    use_trend = ~np.isnan(p_trend) & (parameters.p_method != "static")
    use_static = ~use_trend & ~np.isnan(p_static) & (parameters.p_method != "trend")
    return pd.DataFrame(
        {
            "P": np.where(use_trend, p_trend, np.where(use_static, p_static, np.nan)),
            "P_static": p_static,
            "P_trend": p_trend,
            "P_method": pd.Series(
                labels_where([(use_trend, "trend"), (use_static, "static")], len(users)),
                index=users,
                dtype=object,
            ),
            "P_target": target,
        },
        index=users,
    )
