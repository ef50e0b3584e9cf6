"""Which forecast the pipeline uses: held-out weeks, the learned churn model against S_v1, and P's form.

The rule for S: the learned model's probability replaces S_v1 only when, on held-out weeks, its
ROC-AUC is higher AND its Brier score lower than S_v1's. The rule for P: the trend form is the
default only when its Brier score is lower than the static form's on the same forecasts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from dreamseed.evaluation.churn_model import ChurnModel
from dreamseed.evaluation.metrics import ForecastScores, forecast_scores
from dreamseed.irt.json_values import finite_json
from dreamseed.kpis import churn_bands


@dataclass(frozen=True)
class HoldoutSplit:
    """Cut-off days to train on and held-out days to score on. Every training day's outcome window
    (day + horizon) ends on or before the first held-out day: training sees only the past of it."""

    train_days: tuple[date, ...]
    holdout_days: tuple[date, ...]


def holdout_split(days: list[date], horizon_days: int = 14, holdout_share: float = 1 / 3) -> HoldoutSplit:
    """The last ``holdout_share`` of the distinct cut-off days (at least one) are held out."""
    ordered = sorted(set(days))
    if not ordered:
        return HoldoutSplit((), ())
    n_holdout = min(len(ordered), max(1, round(len(ordered) * holdout_share)))
    holdout = ordered[-n_holdout:]
    boundary = holdout[0] - timedelta(days=horizon_days)
    return HoldoutSplit(tuple(d for d in ordered if d <= boundary), tuple(holdout))


@dataclass(frozen=True)
class ChurnComparison:
    """The learned model and S_v1 scored on the same held-out rows."""

    model: ForecastScores
    baseline: ForecastScores

    @property
    def model_wins(self) -> bool:
        """Higher ROC-AUC and lower Brier score than S_v1 (both must hold)."""
        return bool(self.model.roc_auc > self.baseline.roc_auc and self.model.brier < self.baseline.brier)

    def as_metrics(self) -> dict[str, Any]:
        """JSON-ready: what `model_artifacts.metrics` stores (read back by ``stored_model_wins``)."""
        return {
            "heldout": {"model": finite_json(asdict(self.model)), "S_v1": finite_json(asdict(self.baseline))},
            "model_wins": self.model_wins,
        }


def compare_churn(model: ChurnModel, features: pd.DataFrame, outcomes: np.ndarray) -> ChurnComparison:
    """Score the model and S_v1 (the ``S_v1`` feature) on the same rows (where S_v1 is defined)."""
    return ChurnComparison(
        model=forecast_scores(outcomes, model.predict(features)),
        baseline=forecast_scores(outcomes, features["S_v1"].to_numpy(dtype=float)),
    )


def stored_model_wins(metrics: dict[str, Any]) -> bool:
    """Whether stored metrics say the model beat S_v1 on held-out weeks (AUC higher, Brier lower)."""
    try:
        model, baseline = metrics["heldout"]["model"], metrics["heldout"]["S_v1"]
        return bool(model["roc_auc"] > baseline["roc_auc"] and model["brier"] < baseline["brier"])
    except (KeyError, TypeError):
        return False


def with_learned_churn(
    kpis: pd.DataFrame, features: pd.DataFrame, model: ChurnModel, source: str
) -> pd.DataFrame:
    """``kpis`` (index user_id, with S and S_v1) with S = the model's probability where it is
    defined, S_model = that probability, S_source = ``source`` there (else "S_v1"), S_band redone.

    ``features``: ``churn_features`` of the same users (any order). S_v1 is left as it was.
    """
    probability = pd.Series(model.predict(features), index=features.index).reindex(kpis.index)
    result = kpis.copy()
    result["S_model"] = probability
    result["S"] = probability.where(probability.notna(), kpis["S_v1"])
    result["S_source"] = pd.Series(
        np.where(probability.notna(), source, "S_v1"), index=kpis.index, dtype=object
    )
    result["S_band"] = churn_bands(result["S"])
    return result


def better_p_method(static: ForecastScores, trend: ForecastScores) -> str:
    """Returns "trend_or_static" when the trend form's Brier is lower than the static form's, else "static"."""
    return "trend_or_static" if trend.n and trend.brier < static.brier else "static"
