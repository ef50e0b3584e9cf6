"""Reliability tables: forecasts grouped into bins, mean forecast against the observed rate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import beta

from dreamseed.evaluation.metrics import known_pairs

Binning = Literal["quantile", "uniform"]


@dataclass(frozen=True)
class ReliabilityBin:
    """One bin: forecasts in [low, high], how many, their mean, the observed rate and its 95%
    Clopper–Pearson interval."""

    low: float
    high: float
    n: int
    mean_prediction: float
    observed_rate: float
    observed_low: float
    observed_high: float


def reliability_table(
    outcomes: ArrayLike, predictions: ArrayLike, bins: int = 10, binning: Binning = "quantile"
) -> tuple[ReliabilityBin, ...]:
    """Bins of the forecasts (empty bins left out), in increasing order of forecast.

    ``binning="quantile"``: deciles (for bins=10) of the forecasts, each holding about n/bins
    pairs (equal forecasts always share a bin); ``"uniform"``: [0, 1/bins), [1/bins, 2/bins), …
    """
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    y, p = known_pairs(outcomes, predictions)
    if not len(y):
        return ()
    if binning == "uniform":
        index = np.minimum((p * bins).astype(int), bins - 1)
    else:
        order_rank = np.searchsorted(np.sort(p), p, side="left")
        index = np.minimum(order_rank * bins // len(p), bins - 1)
    return tuple(_bin(y[index == k], p[index == k]) for k in range(bins) if np.any(index == k))


def _bin(y: np.ndarray, p: np.ndarray) -> ReliabilityBin:
    n, hits = len(y), int(y.sum())
    low = float(beta.ppf(0.025, hits, n - hits + 1)) if hits > 0 else 0.0
    high = float(beta.ppf(0.975, hits + 1, n - hits)) if hits < n else 1.0
    return ReliabilityBin(
        low=float(p.min()),
        high=float(p.max()),
        n=n,
        mean_prediction=float(p.mean()),
        observed_rate=hits / n,
        observed_low=low,
        observed_high=high,
    )


def expected_calibration_error(table: tuple[ReliabilityBin, ...]) -> float:
    """Σ n_k/n · |observed_k − mean forecast_k| over the bins (0 is perfect); NaN when empty."""
    total = sum(b.n for b in table)
    if not total:
        return float("nan")
    return sum(b.n * abs(b.observed_rate - b.mean_prediction) for b in table) / total
