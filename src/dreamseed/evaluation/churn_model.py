"""The learned churn model: logistic regression on the churn features, calibrated by isotonic regression.

Training: ``train_churn_model(features, outcomes, cutoffs)`` fits the logistic regression on every
training row, and the isotonic map on out-of-week forecasts (each cut-off day forecast by a
regression fitted without it), so the calibration is learned on forecasts like the real ones: of
weeks the regression has not seen. The fitted model is a plain value (`ChurnModel`) that
serialises to JSON bytes (no pickle: loading a model cannot run code) and predicts with numpy only.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dreamseed.evaluation.churn_features import FEATURE_COLUMNS

MODEL_NAME = "churn"
MODEL_FORMAT = "dreamseed.churn-logistic-isotonic/1"
LOG_FEATURES = frozenset(
    {
        "days_since_last",
        "days_since_first",
        "sessions_7d",
        "sessions_14d",
        "sessions_prev_14d",
        "sessions_56d",
        "active_days_14d",
        "mean_gap_days",
        "max_gap_days",
        "overdue_ratio",
        "attempts_14d",
    }
)
"""Counts and durations enter as log(1 + x)."""
PROBABILITY_RANGE = (0.001, 0.999)
"""Calibrated probabilities are kept inside this range (isotonic steps can reach 0 and 1)."""


@dataclass(frozen=True)
class ChurnModel:
    """A fitted model. Design columns = each feature (log1p for ``LOG_FEATURES``, NaN → ``fill``),
    the saturating recency min(days_since_last, horizon)/horizon, and a missing indicator per
    feature in ``indicators``; standardised by ``center``/``scale``; probability = isotonic map
    (``calibration_x`` → ``calibration_y``, linear in between) of the logistic probability."""

    features: tuple[str, ...]
    indicators: tuple[str, ...]
    fill: tuple[float, ...]
    center: tuple[float, ...]
    scale: tuple[float, ...]
    coefficients: tuple[float, ...]
    intercept: float
    calibration_x: tuple[float, ...]
    calibration_y: tuple[float, ...]
    horizon_days: int = 14

    def design(self, features: pd.DataFrame) -> NDArray[np.float64]:
        """The standardised design matrix, shape (n_rows, n_design_columns)."""
        return (
            _raw_design(features, self.features, self.indicators, self.fill, self.horizon_days)
            - np.asarray(self.center)
        ) / np.asarray(self.scale)

    def raw_probability(self, features: pd.DataFrame) -> NDArray[np.float64]:
        """The logistic regression's probability before calibration, shape (n_rows,)."""
        eta = self.design(features) @ np.asarray(self.coefficients) + self.intercept
        return np.asarray(1.0 / (1.0 + np.exp(-eta)), dtype=np.float64)

    def predict(self, features: pd.DataFrame) -> NDArray[np.float64]:
        """Calibrated probability of no activity in the next ``horizon_days`` days, shape (n_rows,).

        ``features`` holds at least ``self.features`` (``churn_features``' columns). Rows whose
        user had no activity in the 56-day window (days_since_last NaN) get NaN, like S_v1.
        """
        calibrated = np.interp(self.raw_probability(features), self.calibration_x, self.calibration_y)
        calibrated = np.clip(calibrated, *PROBABILITY_RANGE)
        return np.where(features["days_since_last"].isna().to_numpy(), np.nan, calibrated)

    def to_bytes(self) -> bytes:
        """JSON (UTF-8) of every field; ``from_bytes`` reads it back exactly."""
        return json.dumps({"format": MODEL_FORMAT, **asdict(self)}, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, payload: bytes) -> ChurnModel:
        document: dict[str, Any] = json.loads(payload.decode())
        if document.pop("format", None) != MODEL_FORMAT:
            raise ValueError(f"not a {MODEL_FORMAT} model")
        numeric = ("fill", "center", "scale", "coefficients", "calibration_x", "calibration_y")
        vectors = {k: tuple(float(x) for x in document[k]) for k in numeric}
        return cls(
            features=tuple(document["features"]),
            indicators=tuple(document["indicators"]),
            fill=vectors["fill"],
            center=vectors["center"],
            scale=vectors["scale"],
            coefficients=vectors["coefficients"],
            intercept=float(document["intercept"]),
            calibration_x=vectors["calibration_x"],
            calibration_y=vectors["calibration_y"],
            horizon_days=int(document["horizon_days"]),
        )


def _raw_design(
    features: pd.DataFrame,
    names: tuple[str, ...],
    indicators: tuple[str, ...],
    fill: tuple[float, ...],
    horizon_days: int,
) -> NDArray[np.float64]:
    columns = []
    for name, value in zip(names, fill, strict=True):
        x = features[name].to_numpy(dtype=np.float64)
        x = np.where(np.isnan(x), value, x)
        columns.append(np.log1p(np.maximum(x, 0.0)) if name in LOG_FEATURES else x)
    recency = features["days_since_last"].to_numpy(dtype=np.float64)
    columns.append(np.minimum(np.nan_to_num(recency, nan=float(horizon_days)), horizon_days) / horizon_days)
    columns += [features[name].isna().to_numpy(dtype=np.float64) for name in indicators]
    return np.column_stack(columns)


def _fit_regression(
    features: pd.DataFrame, outcomes: NDArray[np.float64], horizon_days: int, regularisation: float
) -> ChurnModel:
    """The logistic regression on these rows, with an identity calibration map."""
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(outcomes)) < 2:
        raise ValueError("cannot train the churn model: the training rows have only one outcome class")
    names = tuple(FEATURE_COLUMNS)
    fill = tuple(float(v) if np.isfinite(v) else 0.0 for v in features[list(names)].median())
    indicators = tuple(n for n in names if features[n].isna().any() and not features[n].isna().all())
    raw = _raw_design(features, names, indicators, fill, horizon_days)
    center, scale = raw.mean(axis=0), raw.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    regression = LogisticRegression(C=regularisation, max_iter=5000)
    regression.fit((raw - center) / scale, outcomes)
    return ChurnModel(
        features=names,
        indicators=indicators,
        fill=fill,
        center=tuple(float(c) for c in center),
        scale=tuple(float(c) for c in scale),
        coefficients=tuple(float(c) for c in regression.coef_[0]),
        intercept=float(regression.intercept_[0]),
        calibration_x=(0.0, 1.0),
        calibration_y=(0.0, 1.0),
        horizon_days=horizon_days,
    )


def out_of_week_probabilities(
    features: pd.DataFrame,
    outcomes: NDArray[np.float64],
    days: NDArray[np.object_],
    horizon_days: int,
    regularisation: float,
) -> NDArray[np.float64]:
    """Each row's regression probability from a model fitted without its cut-off day (leave one
    week out); in-sample when there is a single day. Shape (n_rows,)."""
    distinct = sorted(set(days))
    if len(distinct) < 2:
        return _fit_regression(features, outcomes, horizon_days, regularisation).raw_probability(features)
    probabilities = np.empty(len(outcomes))
    for day in distinct:
        held = days == day
        model = _fit_regression(features[~held], outcomes[~held], horizon_days, regularisation)
        probabilities[held] = model.raw_probability(features[held])
    return probabilities


def train_churn_model(
    features: pd.DataFrame,
    outcomes: NDArray[np.float64],
    cutoffs: pd.Series,
    horizon_days: int = 14,
    regularisation: float = 1.0,
) -> ChurnModel:
    """Fit the regression on all rows; calibrate it by isotonic regression of the outcomes on
    out-of-week probabilities (each cut-off day predicted by a regression that never saw it).

    ``features``: rows of ``churn_features`` (columns ``FEATURE_COLUMNS``) at several cut-off days;
    ``outcomes`` (n_rows,) 1.0 = no activity within ``horizon_days`` after the cut-off; ``cutoffs``
    (n_rows,) the cut-off day of each row. Rows without activity in the window are ignored.
    ``regularisation`` is the inverse L2 strength C of the logistic regression.
    """
    from sklearn.isotonic import IsotonicRegression

    usable = features["days_since_last"].notna().to_numpy() & ~np.isnan(outcomes)
    features, outcomes = features[usable], outcomes[usable]
    days = pd.to_datetime(pd.Series(cutoffs)[usable]).dt.date.to_numpy()
    regression = _fit_regression(features, outcomes, horizon_days, regularisation)
    held_out = out_of_week_probabilities(features, outcomes, days, horizon_days, regularisation)
    isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(held_out, outcomes)
    return replace(
        regression,
        calibration_x=tuple(float(x) for x in isotonic.X_thresholds_),
        calibration_y=tuple(float(y) for y in isotonic.y_thresholds_),
    )
