"""Builders of small KPI input frames with times given as days before the job date."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dreamseed.kpis import ATTEMPT_COLUMNS, THETA_HISTORY_COLUMNS

AS_OF = date(2025, 3, 31)
ATTEMPT_DEFAULTS: dict[str, Any] = {
    "user_id": "u1",
    "item_id": 1,
    "topic_id": "algebra",
    "correct": True,
    "response_time_ms": 1000,
    "hint_used": False,
    "session_id": "s1",
}


def _moment(days_ago: float, hour: float) -> pd.Timestamp:
    return pd.Timestamp(AS_OF, tz="UTC") + pd.Timedelta(hours=hour) - pd.Timedelta(days=days_ago)


def attempts_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Attempts with the contract's columns; a row may give ``days_ago`` and ``hour`` (UTC, default
    12) instead of ``completed_at``."""
    records = []
    for row in rows:
        record = {**ATTEMPT_DEFAULTS, **row}
        days_ago, hour = record.pop("days_ago", 0), record.pop("hour", 12)
        record.setdefault("completed_at", _moment(days_ago, hour))
        records.append(record)
    frame = pd.DataFrame(records, columns=list(ATTEMPT_COLUMNS))
    frame["completed_at"] = pd.to_datetime(frame["completed_at"], utc=True)
    frame["item_id"] = frame["item_id"].astype("int64")
    return frame


def theta_frame(rows: Sequence[tuple[str, float, float, float]]) -> pd.DataFrame:
    """θ history from (user_id, days_ago, theta, se) tuples, fitted at 06:00 UTC."""
    return pd.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "fitted_at": pd.to_datetime([_moment(r[1], 6) for r in rows], utc=True),
            "theta": [r[2] for r in rows],
            "se": [r[3] for r in rows],
        },
        columns=list(THETA_HISTORY_COLUMNS),
    )


@pytest.fixture
def as_of() -> date:
    return AS_OF


@pytest.fixture
def make_attempts() -> Callable[[Sequence[dict[str, Any]]], pd.DataFrame]:
    return attempts_frame


@pytest.fixture
def make_theta() -> Callable[[Sequence[tuple[str, float, float, float]]], pd.DataFrame]:
    return theta_frame


RandomInputs = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]


def random_input_frames(rng: np.random.Generator, users: Sequence[str], as_of: date) -> RandomInputs:
    """Seeded (attempts, theta_history, abilities, goals) for ``users``, with gaps and nulls."""
    rows: list[dict[str, Any]] = []
    history: list[tuple[str, float, float, float]] = []
    for user in users:
        skill = rng.uniform(0.2, 0.9)
        for session in range(int(rng.integers(0, 12))):
            day = int(rng.integers(-3, 60))
            for _ in range(int(rng.integers(1, 8))):
                rows.append(
                    {
                        "user_id": user,
                        "item_id": int(rng.integers(0, 6)),
                        "topic_id": ["a", "b", None][int(rng.integers(0, 3))],
                        "correct": bool(rng.random() < skill),
                        "response_time_ms": int(rng.integers(0, 120_000)),
                        "hint_used": bool(rng.random() < 0.2),
                        "session_id": f"{user}-{session}",
                        "days_ago": day,
                        "hour": float(rng.uniform(0, 24)),
                    }
                )
        for _ in range(int(rng.integers(0, 6))):
            se = float(rng.choice([np.nan, 0.0, rng.uniform(0.05, 0.6)]))
            history.append((user, int(rng.integers(-2, 45)), float(rng.normal(0, 1)), se))
    abilities = pd.DataFrame(
        {"user_id": list(users), "mean": rng.normal(0, 1, len(users)), "sd": rng.uniform(-0.1, 1, len(users))}
    ).iloc[::2]
    goals = pd.DataFrame(
        {
            "user_id": list(users),
            "target_level": rng.normal(0.3, 0.5, len(users)),
            "target_date": [
                as_of + timedelta(days=int(d)) if d > -20 else None for d in rng.integers(-30, 60, len(users))
            ],
        }
    ).iloc[::3]
    return attempts_frame(rows), theta_frame(history), abilities, goals


@pytest.fixture
def random_inputs() -> Callable[[np.random.Generator, Sequence[str], date], RandomInputs]:
    return random_input_frames
