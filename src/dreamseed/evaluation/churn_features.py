"""What the learned churn model sees about each user as of a day, and the outcome it predicts.

Features come from the same inputs as S_v1 (the 56 days of attempts ending at ``as_of``), plus the
θ trend and the goal: recency, frequency and its trend, gaps, accuracy and its trend, θ trend,
goal gap and days to the goal date. The outcome: no activity in the ``horizon`` days after
``as_of``.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dreamseed.kpis import AttemptArrays, churn_risk
from dreamseed.kpis.goal_probability import goal_targets

DAY_NS = 86_400 * 10**9
_EPOCH = date(1970, 1, 1)

FEATURE_COLUMNS = (
    "days_since_last",
    "days_since_first",
    "sessions_7d",
    "sessions_14d",
    "sessions_prev_14d",
    "sessions_56d",
    "active_days_14d",
    "mean_gap_days",
    "max_gap_days",
    "overdue_ratio",
    "attempts_14d",
    "accuracy_14d",
    "accuracy_change",
    "theta_now",
    "theta_slope_per_week",
    "goal_gap",
    "days_to_goal",
    "S_v1",
)
"""Columns of ``churn_features`` (all float; NaN where unknown)."""


def churn_features(
    attempts: AttemptArrays,
    trend: pd.DataFrame,
    goals: pd.DataFrame | None,
    default_target: float = 0.0,
    horizon_days: int = 14,
) -> pd.DataFrame:
    """Per user (index = ``attempts.users``): the ``FEATURE_COLUMNS``.

    ``trend`` is ``theta_trend``'s frame for the same users as of ``attempts.as_of`` (mean, slope
    in θ/day); ``goals`` the goals frame (``GOAL_COLUMNS``) or None. Counts are over the 56 days
    ending at as_of (0 without activity); days are UTC calendar days before as_of.
    """
    users = attempts.users
    sessions = _session_table(attempts)
    recency = _recency_and_gaps(sessions, len(users))
    frequency = _frequency(sessions, len(users))
    accuracy = _accuracy(attempts)
    theta_now = trend.reindex(users)["mean"].to_numpy(dtype=float)
    slope = trend.reindex(users)["slope"].to_numpy(dtype=float)
    targets = goal_targets(goals, users, default_target)
    as_of_day = (attempts.as_of - _EPOCH).days
    frame = pd.DataFrame(
        {
            **recency,
            **frequency,
            **accuracy,
            "theta_now": theta_now,
            "theta_slope_per_week": slope * 7.0,
            "goal_gap": targets["target_level"].to_numpy() - theta_now,
            "days_to_goal": targets["target_day"].to_numpy() - as_of_day,
        },
        index=users,
    )
    frame["S_v1"] = churn_risk(
        frame["days_since_last"], frame["mean_gap_days"], frame["sessions_56d"], horizon_days
    )
    return frame[list(FEATURE_COLUMNS)].astype(float)


def _session_table(attempts: AttemptArrays) -> pd.DataFrame:
    """One row per session: user, end (ns), days_ago of its last attempt; sorted by user, end."""
    if len(attempts.session) == 0:
        return pd.DataFrame({"user": [], "end_ns": [], "days_ago": []}).astype(
            {"user": np.intp, "end_ns": np.int64, "days_ago": np.int64}
        )
    grouped = pd.DataFrame({"session": attempts.session, "end_ns": attempts.completed_ns}).groupby("session")
    end_ns = grouped["end_ns"].max()
    table = pd.DataFrame(
        {
            "user": attempts.session_user[end_ns.index.to_numpy()],
            "end_ns": end_ns.to_numpy(),
            "days_ago": ((attempts.as_of - _EPOCH).days - np.floor_divide(end_ns.to_numpy(), DAY_NS)).astype(
                np.int64
            ),
        }
    )
    return table.sort_values(["user", "end_ns"], kind="stable").reset_index(drop=True)


def _per_user(values: pd.Series, n_users: int, fill: float) -> NDArray[np.float64]:
    out = np.full(n_users, fill, dtype=float)
    out[values.index.to_numpy(dtype=np.intp)] = values.to_numpy(dtype=float)
    return out


def _recency_and_gaps(sessions: pd.DataFrame, n_users: int) -> dict[str, NDArray[np.float64]]:
    """days_since_last, days_since_first, mean_gap_days (as S_v1: span/(n−1), 0 with one session),
    max_gap_days (largest gap between sessions, or up to as_of if larger), overdue_ratio."""
    by_user = sessions.groupby("user")
    last = _per_user(by_user["days_ago"].min(), n_users, np.nan)
    first = _per_user(by_user["days_ago"].max(), n_users, np.nan)
    count = _per_user(by_user.size(), n_users, 0.0)
    span_days = _per_user(by_user["end_ns"].max() - by_user["end_ns"].min(), n_users, 0.0) / DAY_NS
    mean_gap = np.where(count >= 2, span_days / np.maximum(count - 1, 1), np.where(count == 1, 0.0, np.nan))
    gaps = sessions["end_ns"].diff().where(sessions["user"].eq(sessions["user"].shift())) / DAY_NS
    max_between = _per_user(gaps.groupby(sessions["user"]).max().fillna(0.0), n_users, np.nan)
    return {
        "days_since_last": last,
        "days_since_first": first,
        "mean_gap_days": mean_gap,
        "max_gap_days": np.fmax(max_between, last),
        "overdue_ratio": last / (mean_gap + 1.0),
    }


def _frequency(sessions: pd.DataFrame, n_users: int) -> dict[str, NDArray[np.float64]]:
    """Session counts in the last 7, 14, 56 days and days 14–27 before; active days in the last 14."""

    def count(mask: pd.Series) -> NDArray[np.float64]:
        return _per_user(sessions["user"][mask].value_counts(), n_users, 0.0)

    recent = sessions["days_ago"] < 14
    active_days = sessions.loc[recent, ["user", "days_ago"]].drop_duplicates()["user"].value_counts()
    return {
        "sessions_7d": count(sessions["days_ago"] < 7),
        "sessions_14d": count(recent),
        "sessions_prev_14d": count((sessions["days_ago"] >= 14) & (sessions["days_ago"] < 28)),
        "sessions_56d": count(sessions["days_ago"] < 56),
        "active_days_14d": _per_user(active_days, n_users, 0.0),
    }


def _accuracy(attempts: AttemptArrays) -> dict[str, NDArray[np.float64]]:
    """attempts_14d, accuracy_14d and its change against days 14–27 (NaN where a window is empty)."""
    n = attempts.n_users
    known = attempts.correct_known
    recent, previous = attempts.in_days(0, 13) & known, attempts.in_days(14, 27) & known

    def share(mask: NDArray[np.bool_]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        total = np.bincount(attempts.user[mask], minlength=n).astype(float)
        right = np.bincount(attempts.user[mask], weights=attempts.correct[mask].astype(float), minlength=n)
        return total, np.divide(right, total, out=np.full(n, np.nan), where=total > 0)

    n_recent, accuracy_recent = share(recent)
    _, accuracy_previous = share(previous)
    return {
        "attempts_14d": n_recent,
        "accuracy_14d": accuracy_recent,
        "accuracy_change": accuracy_recent - accuracy_previous,
    }


def no_activity_labels(
    activity_days: pd.DataFrame, users: pd.Index, as_of: date, horizon_days: int = 14
) -> NDArray[np.float64]:
    """1.0 where the user has no activity on UTC days as_of+1 .. as_of+horizon, else 0.0.

    ``activity_days``: columns user_id, day (datetime.date or datetime64), one row per active day
    (duplicates are fine). Shape (n_users,).
    """
    days = pd.to_datetime(activity_days["day"]).dt.date
    ahead = (days > as_of) & (days <= as_of + pd.Timedelta(days=horizon_days).to_pytimedelta())
    seen = users.isin(activity_days.loc[ahead.to_numpy(), "user_id"].unique())
    return np.where(seen, 0.0, 1.0)
