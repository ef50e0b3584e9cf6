"""Scores of probability forecasts against 0/1 outcomes: discrimination and calibration.

Every function takes ``outcomes`` (shape (n,), 0/1) and ``predictions`` (shape (n,), in [0, 1]);
pairs where either is NaN are dropped. Pure numpy/scipy; cross-checked against scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import expit, logit
from scipy.stats import rankdata

PROBABILITY_FLOOR = 1e-6
"""Predictions are clipped to [floor, 1 − floor] in log loss and the calibration fit."""


def known_pairs(
    outcomes: ArrayLike, predictions: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(outcomes, predictions) as float arrays without the pairs where either is NaN."""
    y = np.asarray(outcomes, dtype=np.float64).ravel()
    p = np.asarray(predictions, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise ValueError(f"outcomes and predictions differ in length: {y.shape} vs {p.shape}")
    keep = ~(np.isnan(y) | np.isnan(p))
    return y[keep], p[keep]


def roc_auc(outcomes: ArrayLike, predictions: ArrayLike) -> float:
    """Area under the ROC curve (ties count one half); NaN unless both outcomes occur."""
    y, p = known_pairs(outcomes, predictions)
    positives = int(y.sum())
    negatives = len(y) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(p)
    return float((ranks[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def pr_auc(outcomes: ArrayLike, predictions: ArrayLike) -> float:
    """Area under the precision-recall curve as average precision (scikit-learn's definition):
    Σ (recall_k − recall_{k−1}) · precision_k over distinct thresholds; NaN without positives."""
    y, p = known_pairs(outcomes, predictions)
    if y.sum() == 0:
        return float("nan")
    order = np.argsort(-p, kind="mergesort")
    y_sorted, p_sorted = y[order], p[order]
    last_of_tie = np.r_[np.diff(p_sorted) != 0, True]
    true_positives = np.cumsum(y_sorted)[last_of_tie]
    flagged = np.arange(1, len(y) + 1)[last_of_tie]
    precision = true_positives / flagged
    recall = true_positives / y.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def brier_score(outcomes: ArrayLike, predictions: ArrayLike) -> float:
    """Mean squared difference between prediction and outcome (0 is perfect); NaN when empty."""
    y, p = known_pairs(outcomes, predictions)
    return float(np.mean((p - y) ** 2)) if len(y) else float("nan")


def log_loss(outcomes: ArrayLike, predictions: ArrayLike) -> float:
    """Mean negative log-likelihood (natural log), predictions clipped away from 0 and 1."""
    y, p = known_pairs(outcomes, predictions)
    if not len(y):
        return float("nan")
    p = np.clip(p, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


BOOTSTRAP_CHUNK = 256
"""Bootstrap replicates drawn at a time (bounds memory at chunk × groups weights)."""


def brier_gain_interval(
    outcomes: ArrayLike,
    reference: ArrayLike,
    candidate: ArrayLike,
    groups: ArrayLike,
    level: float = 0.95,
    replicates: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of the Brier gain 1 − Brier(candidate) / Brier(reference).

    A cluster bootstrap over ``groups`` (shape (n,), e.g. user ids): a user's weekly forecasts share
    their errors, so resampling rows alone would understate the uncertainty. Each replicate weighs
    every group by a Poisson(1) draw (the Poisson bootstrap). Rows where the outcome or either
    forecast is NaN are dropped. Deterministic for a given ``seed``; (NaN, NaN) without rows or
    when the reference is perfect.
    """
    y = np.asarray(outcomes, dtype=np.float64).ravel()
    ref, cand = (np.asarray(v, dtype=np.float64).ravel() for v in (reference, candidate))
    keys = np.asarray(groups).ravel()
    if not (y.shape == ref.shape == cand.shape == keys.shape):
        raise ValueError("outcomes, reference, candidate and groups must have the same length")
    keep = ~(np.isnan(y) | np.isnan(ref) | np.isnan(cand))
    if not keep.any():
        return float("nan"), float("nan")
    _, group = np.unique(keys[keep], return_inverse=True)
    reference_sums = np.bincount(group, (ref[keep] - y[keep]) ** 2)
    candidate_sums = np.bincount(group, (cand[keep] - y[keep]) ** 2)
    rng = np.random.default_rng(seed)
    gains: list[NDArray[np.float64]] = []
    for start in range(0, replicates, BOOTSTRAP_CHUNK):
        weights = rng.poisson(1.0, (min(BOOTSTRAP_CHUNK, replicates - start), len(reference_sums)))
        with np.errstate(divide="ignore", invalid="ignore"):
            gains.append(1.0 - (weights @ candidate_sums) / (weights @ reference_sums))
    gain = np.concatenate(gains)
    gain = gain[np.isfinite(gain)]
    if not len(gain):
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(gain, [tail, 1.0 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class CalibrationLine:
    """Logistic recalibration fit: logit P(y=1) = intercept + slope · logit(prediction).

    A calibrated forecast has slope 1 and intercept 0; slope < 1 means too extreme forecasts,
    slope > 1 too timid ones. NaN when it cannot be fitted (one outcome class, constant forecasts).
    """

    slope: float
    intercept: float


def calibration_line(outcomes: ArrayLike, predictions: ArrayLike) -> CalibrationLine:
    """Maximum-likelihood ``CalibrationLine`` of the forecasts (unpenalised logistic regression)."""
    y, p = known_pairs(outcomes, predictions)
    x = logit(np.clip(p, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR))
    if len(y) < 2 or y.min() == y.max() or np.ptp(x) == 0:
        return CalibrationLine(float("nan"), float("nan"))

    def loss_and_gradient(beta: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        eta = beta[0] + beta[1] * x
        loss = float(np.sum(np.logaddexp(0.0, eta) - y * eta))
        residual = expit(eta) - y
        return loss, np.array([residual.sum(), (residual * x).sum()])

    fit = minimize(loss_and_gradient, np.array([0.0, 1.0]), jac=True, method="BFGS")
    return CalibrationLine(slope=float(fit.x[1]), intercept=float(fit.x[0]))


@dataclass(frozen=True)
class ForecastScores:
    """All scores of one forecast on one set of outcomes."""

    n: int
    positives: int
    base_rate: float
    roc_auc: float
    pr_auc: float
    brier: float
    log_loss: float
    calibration_slope: float
    calibration_intercept: float
    mean_prediction: float

    @property
    def brier_skill(self) -> float:
        """1 − Brier / Brier of always forecasting the base rate (> 0 beats that)."""
        reference = self.base_rate * (1 - self.base_rate)
        return 1 - self.brier / reference if reference > 0 else float("nan")


def forecast_scores(outcomes: ArrayLike, predictions: ArrayLike) -> ForecastScores:
    """Every score of ``predictions`` against ``outcomes``."""
    y, p = known_pairs(outcomes, predictions)
    line = calibration_line(y, p)
    return ForecastScores(
        n=len(y),
        positives=int(y.sum()),
        base_rate=float(y.mean()) if len(y) else float("nan"),
        roc_auc=roc_auc(y, p),
        pr_auc=pr_auc(y, p),
        brier=brier_score(y, p),
        log_loss=log_loss(y, p),
        calibration_slope=line.slope,
        calibration_intercept=line.intercept,
        mean_prediction=float(p.mean()) if len(p) else float("nan"),
    )
