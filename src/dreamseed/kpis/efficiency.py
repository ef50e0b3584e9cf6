"""E_t, time efficiency: how much faster correct answers got between two 28-day windows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dreamseed.kpis import _grouped
from dreamseed.kpis.attempts import AttemptArrays

WINDOW_DAYS = 28


def time_efficiency(attempts: AttemptArrays) -> pd.Series:
    """E_t per user in [0, 1]: clamp((median_prev − median_recent)/median_prev, 0, 1).

    Medians of the response time (ms) of correct attempts with a known time in the recent
    [as_of−27, as_of] and previous [as_of−55, as_of−28] windows. Null when a window has none or
    median_prev ≤ 0. Getting slower gives 0.
    """
    timed_correct = attempts.correct & ~np.isnan(attempts.response_ms)
    recent = timed_correct & attempts.in_days(0, WINDOW_DAYS - 1)
    previous = timed_correct & attempts.in_days(WINDOW_DAYS, 2 * WINDOW_DAYS - 1)
    n = attempts.n_users
    median_recent = _grouped.medians(attempts.user[recent], attempts.response_ms[recent], n)
    median_previous = _grouped.medians(attempts.user[previous], attempts.response_ms[previous], n)
    usable = (median_previous > 0) & ~np.isnan(median_recent)
    gain = np.divide(median_previous - median_recent, median_previous, out=np.full(n, np.nan), where=usable)
    return pd.Series(np.clip(gain, 0.0, 1.0), index=attempts.users, name="E_t")
