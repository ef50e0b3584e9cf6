"""Forecasts the pipeline wrote at weekly cut-offs, joined with what happened, and scored.

S is scored against "no activity in the horizon days after the cut-off"; P against "reached the
goal by its target date" (the synthetic platform's truth), for goals still open at the cut-off whose
target date falls within the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from dreamseed.evaluation.metrics import ForecastScores, forecast_scores
from dreamseed.evaluation.reliability import ReliabilityBin, reliability_table


@dataclass(frozen=True)
class Assessment:
    """One forecast on one population: its scores and its reliability table (deciles)."""

    forecast: str
    population: str
    scores: ForecastScores
    reliability: tuple[ReliabilityBin, ...]


def assess(forecast: str, population: str, outcomes: pd.Series, predictions: pd.Series) -> Assessment:
    """Scores and decile reliability table of ``predictions`` against ``outcomes`` (same length)."""
    y = outcomes.to_numpy(dtype=float)
    p = predictions.to_numpy(dtype=float)
    return Assessment(forecast, population, forecast_scores(y, p), reliability_table(y, p))


def with_churn_outcomes(
    forecasts: pd.DataFrame, activity_days: pd.DataFrame, last_day: date, horizon_days: int = 14
) -> pd.DataFrame:
    """``forecasts`` (user_id, cutoff, …) plus ``no_activity``: 1.0 when the user has no activity
    on days cutoff+1 .. cutoff+horizon, 0.0 when they have, NaN when that window ends after
    ``last_day`` (the outcome is not known)."""
    active = pd.DataFrame(
        {"user_id": activity_days["user_id"].astype(str), "day": pd.to_datetime(activity_days["day"]).dt.date}
    )
    pairs = pd.DataFrame(
        {
            "user_id": forecasts["user_id"].astype(str).to_numpy(),
            "cutoff": forecasts["cutoff"].to_numpy(),
            "row": np.arange(len(forecasts)),
        }
    )
    merged = pairs.merge(active, on="user_id")
    ahead = (merged["day"] > merged["cutoff"]) & (
        merged["day"] <= merged["cutoff"] + timedelta(days=horizon_days)
    )
    outcome = np.ones(len(forecasts))
    outcome[merged.loc[ahead, "row"].to_numpy(dtype=np.intp)] = 0.0
    known = np.array([c + timedelta(days=horizon_days) <= last_day for c in forecasts["cutoff"]], dtype=bool)
    return forecasts.assign(no_activity=np.where(known, outcome, np.nan))


def with_goal_outcomes(forecasts: pd.DataFrame, truth_students: pd.DataFrame) -> pd.DataFrame:
    """``forecasts`` plus ``reached_goal`` (1.0/0.0) and ``target_date`` from the truth
    (``user_id``, ``target_date`` ISO or empty, ``reached_goal`` "true"/"false"/empty): NaN unless the
    goal's outcome is known and its target date is after the cut-off (the goal is still open)."""
    truth = truth_students[["user_id", "target_date", "reached_goal"]].copy()
    truth["user_id"] = truth["user_id"].astype(str)
    truth["target_date"] = pd.to_datetime(truth["target_date"].replace("", None), errors="coerce")
    truth["reached"] = truth["reached_goal"].astype(str).str.lower().map({"true": 1.0, "false": 0.0})
    joined = forecasts.assign(user_id=forecasts["user_id"].astype(str)).merge(
        truth[["user_id", "target_date", "reached"]], on="user_id", how="left"
    )
    still_open = (joined["target_date"] > pd.to_datetime(joined["cutoff"])).to_numpy()  # NaT: False
    return forecasts.assign(
        target_date=joined["target_date"].dt.date.to_numpy(),
        reached_goal=np.where(still_open, joined["reached"].to_numpy(dtype=float), np.nan),
    )
