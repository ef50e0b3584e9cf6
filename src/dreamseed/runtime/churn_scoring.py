"""S in the jobs: the learned churn model's probability when an active model beat S_v1, else S_v1.

compute-daily-kpis and detect-inactivity call `active_churn_model` once per run and, when it
returns a model, `learned_churn` on their KPI frame. CHURN_MODEL=off keeps S = S_v1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Connection

from dreamseed.evaluation.churn_features import churn_features
from dreamseed.evaluation.churn_model import MODEL_FORMAT, MODEL_NAME, ChurnModel
from dreamseed.evaluation.selection import stored_model_wins, with_learned_churn
from dreamseed.kpis import KpiParameters, prepare_attempts
from dreamseed.runtime.logs import JobLogger
from dreamseed.settings import Settings
from dreamseed.storage import model_artifacts


@dataclass(frozen=True)
class ActiveChurnModel:
    model: ChurnModel
    label: str  # e.g. "churn:v3", written as S_source


def active_churn_model(connection: Connection, settings: Settings, log: JobLogger) -> ActiveChurnModel | None:
    """The active churn model when CHURN_MODEL=auto and its stored held-out metrics beat S_v1."""
    if settings.churn_model == "off":
        return None
    stored = model_artifacts.read_active_model(connection, MODEL_NAME)
    if stored is None:
        return None
    label = f"{MODEL_NAME}:v{stored.version}"
    if stored.format != MODEL_FORMAT:
        log.warn(f"active model {label} has format {stored.format!r}, expected {MODEL_FORMAT}; S = S_v1")
        return None
    if not stored_model_wins(stored.metrics):
        log.warn(f"active model {label} did not beat S_v1 on held-out weeks (AUC and Brier); S = S_v1")
        return None
    return ActiveChurnModel(ChurnModel.from_bytes(stored.payload), label)


def learned_churn(
    values: pd.DataFrame,
    active: ActiveChurnModel,
    attempts: pd.DataFrame,
    trend: pd.DataFrame,
    goals: pd.DataFrame | None,
    as_of: date,
    parameters: KpiParameters,
) -> pd.DataFrame:
    """`values` (KPI frame, index user_id) with S from the model; S_v1, S_model, S_source kept."""
    features = churn_features(
        prepare_attempts(attempts, values.index, as_of),
        trend.reindex(values.index),
        goals,
        parameters.default_target,
        parameters.churn_horizon_days,
    )
    return with_learned_churn(values, features, active.model, active.label)
