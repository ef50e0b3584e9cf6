"""A_t, engagement over the 28 days ending at ``as_of``: sessions, regularity, hints, dwell time."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dreamseed.kpis import _grouped
from dreamseed.kpis._inputs import DAY_NS
from dreamseed.kpis.attempts import AttemptArrays

WINDOW_DAYS = 28
FULL_DWELL_SECONDS = 900.0
UNKNOWN_COMPONENT = 0.5


def engagement(attempts: AttemptArrays) -> pd.Series:
    """A_t per user in [0, 1]; null without attempts in [as_of−27, as_of].

    A_t = 0.35·min(1, sessions/28) + 0.25·gap_norm + 0.20·hints_norm + 0.20·dwell_norm, where
    gap_norm = min(1, 1/mean gap in days between the sorted distinct attempt times) (0.5 with
    fewer than 2), hints_norm = 1 − mean(hint_used)/3 (0.5 if unknown) and dwell_norm =
    min(1, mean session seconds/900), a session's seconds being the sum of its known response
    times (0.5 if no time is known).
    """
    inside = attempts.in_days(0, WINDOW_DAYS - 1)
    user = attempts.user[inside]
    n = attempts.n_users
    sessions = attempts.sessions_in(inside)
    hints = _grouped.means(user, attempts.hint_used[inside], n)
    score = (
        0.35 * np.minimum(1.0, sessions / WINDOW_DAYS)
        + 0.25 * _gap_norm(user, attempts.completed_ns[inside], n)
        + 0.20 * np.where(np.isnan(hints), UNKNOWN_COMPONENT, 1.0 - hints / 3.0)
        + 0.20 * _dwell_norm(attempts, inside, sessions)
    )
    active = _grouped.counts(user, n) > 0
    return pd.Series(np.where(active, np.clip(score, 0.0, 1.0), np.nan), index=attempts.users, name="A_t")


def _gap_norm(user: NDArray[np.intp], completed_ns: NDArray[np.int64], n: int) -> NDArray[np.float64]:
    """min(1, 1/mean gap in days) over distinct attempt times; 1 if the gap is 0; 0.5 with < 2."""
    distinct = _grouped.distinct_value_counts(user, completed_ns, n)
    span_days = _grouped.spans(user, completed_ns, n, where=distinct >= 2) / DAY_NS
    mean_gap = np.divide(span_days, distinct - 1, out=np.zeros(n), where=distinct >= 2)
    regular = np.minimum(1.0, np.divide(1.0, mean_gap, out=np.ones(n), where=mean_gap > 0))
    return np.where(distinct >= 2, regular, UNKNOWN_COMPONENT)


def _dwell_norm(
    attempts: AttemptArrays, inside: NDArray[np.bool_], sessions: NDArray[np.int64]
) -> NDArray[np.float64]:
    """min(1, mean seconds per session / 900) over sessions with a known time; 0.5 if none.

    ``sessions``: distinct sessions per user among the ``inside`` attempts (shape (n_users,)).
    """
    n = attempts.n_users
    timed = inside & ~np.isnan(attempts.response_ms)
    timed_sessions = sessions if np.array_equal(timed, inside) else attempts.sessions_in(timed)
    seconds = _grouped.sums(attempts.user[timed], attempts.response_ms[timed] / 1000.0, n)
    per_session = np.divide(seconds, timed_sessions, out=np.zeros(n), where=timed_sessions > 0)
    return np.where(timed_sessions > 0, np.minimum(1.0, per_session / FULL_DWELL_SECONDS), UNKNOWN_COMPONENT)
