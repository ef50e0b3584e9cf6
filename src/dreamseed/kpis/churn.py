"""S, the heuristic churn risk (S_v1) from the 56 days of activity ending at ``as_of``, and its bands."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from dreamseed.kpis import _grouped
from dreamseed.kpis._inputs import DAY_NS
from dreamseed.kpis._labels import labels_where
from dreamseed.kpis.attempts import LOOKBACK_DAYS, AttemptArrays
from dreamseed.kpis.parameters import KpiParameters

WINDOW_DAYS = LOOKBACK_DAYS
LOW_BELOW = 0.3
HIGH_FROM = 0.7


def churn_risk(
    days_since_last: ArrayLike, mean_gap_days: ArrayLike, sessions: ArrayLike, horizon_days: float = 14
) -> NDArray[np.float64]:
    """S = clamp(0.60·min(1, d/H) + 0.25·min(1, mean_gap/7) + 0.15·max(0, 1 − sessions/10), 0, 1).

    Element-wise over broadcastable arrays (days, days, counts); d < 0 counts as 0. NaN in any
    input gives NaN. Scalars give a 0-d array: ``float(churn_risk(3, 1.5, 4))``.
    """
    if not horizon_days > 0:
        raise ValueError(f"horizon_days must be positive, got {horizon_days}")
    days = np.maximum(0.0, np.asarray(days_since_last, dtype=np.float64))
    gap = np.asarray(mean_gap_days, dtype=np.float64)
    count = np.asarray(sessions, dtype=np.float64)
    score = (
        0.60 * np.clip(days / horizon_days, 0.0, 1.0)
        + 0.25 * np.clip(gap / 7.0, 0.0, 1.0)
        + 0.15 * np.clip(1.0 - count / 10.0, 0.0, 1.0)
    )
    return np.clip(score, 0.0, 1.0)


def churn_band(score: float | None) -> str | None:
    """ "low" below 0.3, "medium" below 0.7, "high" from 0.7; None for a null score."""
    if score is None or np.isnan(score):
        return None
    if score < LOW_BELOW:
        return "low"
    return "medium" if score < HIGH_FROM else "high"


def churn_bands(scores: pd.Series) -> pd.Series:
    """``churn_band`` of every score (object Series, same index; None where null)."""
    values = scores.to_numpy(dtype=np.float64, na_value=np.nan)
    bands = labels_where(
        [(values < LOW_BELOW, "low"), (values < HIGH_FROM, "medium"), (values >= HIGH_FROM, "high")],
        len(values),
    )
    return pd.Series(bands, index=scores.index, dtype=object)


def churn_activity(attempts: AttemptArrays, parameters: KpiParameters) -> pd.DataFrame:
    """Per user over [as_of−55, as_of]: S, days_since_last, sessions_56d, mean_gap_days.

    days_since_last = as_of − UTC date of the last attempt; sessions_56d = distinct session ids;
    mean_gap_days = mean gap (days) between consecutive sorted session completion times (a
    session's completion = its last attempt), 0 with one session. All null (sessions 0) without
    activity.
    """
    n = attempts.n_users
    active = _grouped.counts(attempts.user, n) > 0
    days_since_last = np.where(active, _grouped.minima(attempts.user, attempts.days_ago, n), np.nan)
    session_end = _grouped.maxima(attempts.session, attempts.completed_ns, len(attempts.session_user))
    sessions = _grouped.counts(attempts.session_user, n)
    span = _grouped.spans(attempts.session_user, session_end, n, where=sessions >= 2)
    mean_gap = np.divide(span / DAY_NS, sessions - 1, out=np.zeros(n), where=sessions >= 2)
    mean_gap = np.where(active, mean_gap, np.nan)
    score = churn_risk(days_since_last, mean_gap, sessions, parameters.churn_horizon_days)
    return pd.DataFrame(
        {"S": score, "days_since_last": days_since_last, "sessions_56d": sessions, "mean_gap_days": mean_gap},
        index=attempts.users,
    )
