"""The per-day improvement of features_topic_daily: the user-level I_t as of each day (pure)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dreamseed.kpis import KpiParameters, improvement_index, prepare_attempts, prepare_theta_history

IMPROVEMENT_LOOKBACK_DAYS = 27  # I_t's two 14-day windows end at the day and start 27 days before


def daily_improvement(
    attempts: pd.DataFrame,
    theta_history: pd.DataFrame,
    users: list[str],
    days: list[date],
    parameters: KpiParameters,
) -> pd.DataFrame:
    """The user-level I_t as of each day: columns user_id, date, improvement (NaN when unknown)."""
    frames = []
    for day in days:
        values = improvement_index(
            prepare_attempts(attempts, users, day),
            prepare_theta_history(theta_history, users, day),
            parameters,
        )["I_t"]
        frames.append(pd.DataFrame({"user_id": values.index, "date": day, "improvement": values.to_numpy()}))
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["user_id", "date", "improvement"])
    )
