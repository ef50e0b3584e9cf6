"""R_t, recovery rate: how often (item, topic) keys answered wrong before are now answered right."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dreamseed.kpis import _grouped
from dreamseed.kpis.attempts import AttemptArrays

WINDOW_DAYS = 28


def recovery_rate(attempts: AttemptArrays) -> pd.Series:
    """R_t per user in [0, 1], counted per attempt.

    Keys = (item_id, topic_id) the user answered wrong in the previous window [as_of−55, as_of−28];
    R_t = share correct among the user's recent-window [as_of−27, as_of] attempts on those keys.
    Null when there are no wrong keys or no recent attempt on them. Attempts with unknown
    correctness are left out.
    """
    known = attempts.correct_known
    recent = known & attempts.in_days(0, WINDOW_DAYS - 1)
    wrong_before = known & ~attempts.correct & attempts.in_days(WINDOW_DAYS, 2 * WINDOW_DAYS - 1)
    n = attempts.n_users
    width = np.int64(attempts.item_topic.max()) + 1 if len(attempts.item_topic) else np.int64(1)
    key = attempts.user.astype(np.int64) * width + attempts.item_topic
    wrong_keys = pd.unique(key[wrong_before])
    retried = recent.copy()
    retried[recent] = pd.Series(key[recent]).isin(wrong_keys).to_numpy()
    total = _grouped.counts(attempts.user[retried], n)
    recovered = _grouped.counts(attempts.user[retried & attempts.correct], n)
    rate = np.divide(recovered, total, out=np.full(n, np.nan), where=total > 0)
    return pd.Series(np.clip(rate, 0.0, 1.0), index=attempts.users, name="R_t")
