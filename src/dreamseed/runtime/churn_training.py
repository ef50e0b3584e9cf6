"""Training the churn model on a database's own history and storing it as a versioned artefact.

Used by `dreamseed model train` (the platform's database) and `dreamseed evaluate` (the scratch
database of a synthetic platform). Reads one cut-off day at a time (56 days of attempts each).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from dreamseed.evaluation.churn_features import churn_features, no_activity_labels
from dreamseed.evaluation.churn_model import MODEL_FORMAT, MODEL_NAME
from dreamseed.evaluation.training import ChurnSnapshots, TrainedChurnModel
from dreamseed.kpis import KpiParameters, prepare_attempts, theta_trend
from dreamseed.kpis.attempts import LOOKBACK_DAYS
from dreamseed.runtime.kpi_parts import THETA_HISTORY_DAYS
from dreamseed.storage import activity, model_artifacts
from dreamseed.storage.evaluation import read_activity_days


def weekly_cutoffs(last_day: date, weeks: int) -> list[date]:
    """`weeks` cut-off days a week apart, the latest being `last_day`, oldest first."""
    return [last_day - timedelta(days=7 * k) for k in reversed(range(weeks))]


def churn_snapshots(
    connection: Connection,
    cutoffs: list[date],
    parameters: KpiParameters,
    on_cutoff: Callable[[date], None] | None = None,
) -> ChurnSnapshots:
    """Features of every user active in the 56 days before each cut-off, and their outcome: no
    activity in the `parameters.churn_horizon_days` days after it (read from the database, so
    cut-offs must be at least that long before the last day of data)."""
    horizon = parameters.churn_horizon_days
    goals = activity.read_goals(connection)
    history = activity.read_theta_history(
        connection, min(cutoffs) - timedelta(days=THETA_HISTORY_DAYS), max(cutoffs)
    )
    days = read_activity_days(
        connection, min(cutoffs) + timedelta(days=1), max(cutoffs) + timedelta(days=horizon)
    )
    parts = []
    for cutoff in sorted(cutoffs):
        attempts = activity.read_attempts(connection, cutoff - timedelta(days=LOOKBACK_DAYS - 1), cutoff)
        users = pd.Index(sorted(attempts["user_id"].unique()), name="user_id")
        features = churn_features(
            prepare_attempts(attempts, users, cutoff),
            theta_trend(history, users, cutoff, parameters),
            goals,
            parameters.default_target,
            horizon,
        )
        frame = features.reset_index().assign(cutoff=cutoff)
        parts.append(ChurnSnapshots(frame, no_activity_labels(days, users, cutoff, horizon)))
        if on_cutoff is not None:
            on_cutoff(cutoff)
    return ChurnSnapshots.concat(parts)


def store_churn_model(
    connection: Connection, trained: TrainedChurnModel, params: dict[str, Any], activate: bool
) -> int:
    """Save the model as the next version of "churn"; make it the active one when `activate` and it
    beat S_v1 on the held-out weeks. Returns the version."""
    version = model_artifacts.save_model(
        connection, MODEL_NAME, MODEL_FORMAT, trained.model.to_bytes(), trained.metrics(), params
    )
    if activate and trained.comparison.model_wins:
        model_artifacts.activate_model(connection, MODEL_NAME, version)
    return version
