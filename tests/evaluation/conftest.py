"""Small attempt frames with sessions placed at days before the cut-off, and a simulated history."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from dreamseed.kpis import ATTEMPT_COLUMNS

AS_OF = date(2025, 3, 31)


def session_attempts(
    user: str, days_ago: list[float], correct: list[bool] | None = None
) -> list[dict[str, Any]]:
    """One attempt per session at noon UTC, `days_ago` days before AS_OF; session ids user-n."""
    right = correct or [True] * len(days_ago)
    return [
        {
            "user_id": user,
            "item_id": 1,
            "topic_id": "algebra",
            "correct": ok,
            "response_time_ms": 1000,
            "hint_used": False,
            "completed_at": pd.Timestamp(AS_OF, tz="UTC") + pd.Timedelta(hours=12) - pd.Timedelta(days=d),
            "session_id": f"{user}-{n}",
        }
        for n, (d, ok) in enumerate(zip(days_ago, right, strict=True))
    ]


def attempts_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(ATTEMPT_COLUMNS))
    frame["completed_at"] = pd.to_datetime(frame["completed_at"], utc=True)
    return frame


def simulated_history(n_users: int, n_days: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Attempts of users whose daily chance of a session fades at a random churn day, and the
    (user_id, day) activity frame. Day 0 = AS_OF − n_days + 1."""
    rng = np.random.default_rng(seed)
    first = AS_OF - timedelta(days=n_days - 1)
    rate = rng.uniform(0.1, 0.6, n_users)
    churn_day = rng.integers(10, n_days + 40, n_users)
    rows = []
    for user in range(n_users):
        for day in range(n_days):
            if day < churn_day[user] and rng.random() < rate[user]:
                rows.append(
                    {
                        "user_id": f"u{user:03d}",
                        "item_id": int(rng.integers(1, 50)),
                        "topic_id": "algebra",
                        "correct": bool(rng.random() < 0.6),
                        "response_time_ms": 1000,
                        "hint_used": False,
                        "completed_at": pd.Timestamp(first + timedelta(days=day), tz="UTC")
                        + pd.Timedelta(hours=10),
                        "session_id": f"u{user}-{day}",
                    }
                )
    attempts = attempts_frame(rows)
    days = pd.DataFrame(
        {"user_id": attempts["user_id"], "day": attempts["completed_at"].dt.date}
    ).drop_duplicates()
    return attempts, days
