"""Trustworthy predictions (pure core): scores of P and S against known outcomes, and the learned churn model.

No database, clock, environment or settings here: the shell (`jobs/`, `cli/evaluate.py`) reads
frames and passes plain values.
"""

from dreamseed.evaluation.churn_features import FEATURE_COLUMNS, churn_features, no_activity_labels
from dreamseed.evaluation.churn_model import MODEL_FORMAT, MODEL_NAME, ChurnModel, train_churn_model
from dreamseed.evaluation.metrics import (
    CalibrationLine,
    ForecastScores,
    brier_gain_interval,
    brier_score,
    calibration_line,
    forecast_scores,
    log_loss,
    pr_auc,
    roc_auc,
)
from dreamseed.evaluation.reliability import ReliabilityBin, expected_calibration_error, reliability_table
from dreamseed.evaluation.selection import (
    ChurnComparison,
    HoldoutSplit,
    better_p_method,
    compare_churn,
    holdout_split,
    stored_model_wins,
    with_learned_churn,
)

__all__ = [
    "FEATURE_COLUMNS",
    "MODEL_FORMAT",
    "MODEL_NAME",
    "CalibrationLine",
    "ChurnComparison",
    "ChurnModel",
    "ForecastScores",
    "HoldoutSplit",
    "ReliabilityBin",
    "better_p_method",
    "brier_gain_interval",
    "brier_score",
    "calibration_line",
    "churn_features",
    "compare_churn",
    "expected_calibration_error",
    "forecast_scores",
    "holdout_split",
    "log_loss",
    "no_activity_labels",
    "pr_auc",
    "reliability_table",
    "roc_auc",
    "stored_model_wins",
    "train_churn_model",
    "with_learned_churn",
]
