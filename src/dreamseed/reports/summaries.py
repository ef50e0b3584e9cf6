"""Derived numbers the report states: level band, percentile, growth, churn band, item position.

All thresholds are the original report's (seed notes, generate-weekly-report) unless noted.
Non-finite inputs are treated as missing.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt

from dreamseed.reports.data import ThetaPoint, TopicRow

LEVEL_CUTS: tuple[float, ...] = (2.0, 1.5, 1.0, 0.5, -0.5, -1.0, -1.5)
"""Lower θ bounds of level bands 0..6; band 7 is everything below −1.5."""
GROWTH_CUTS: tuple[tuple[float, str], ...] = (
    (0.1, "strong"),
    (0.05, "steady"),
    (0.0, "slow"),
    (-0.05, "plateau"),
)
"""Growth per week strictly above the cut → category; anything lower is "declining"."""
CHURN_MEDIUM = 0.3
CHURN_HIGH = 0.7
HISTORY_WEEKS = 8
MIN_HISTORY_DAYS = 1
HARDNESS_RATIO = 1.5

GrowthCategory = Literal["strong", "steady", "slow", "plateau", "declining", "unknown"]
ChurnBand = Literal["low", "medium", "high"]


def finite(value: float | None) -> float | None:
    """``value`` if it is a finite number, else ``None``."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def percentile_of(theta: float) -> float:
    """Φ(θ)·100: the share of a standard normal population below ``theta``, in percent."""
    return 50.0 * (1.0 + math.erf(theta / math.sqrt(2.0)))


def level_band_of(theta: float) -> int:
    """Level band index 0 (θ ≥ 2.0, highest) … 7 (θ < −1.5) from `LEVEL_CUTS`."""
    for index, cut in enumerate(LEVEL_CUTS):
        if theta >= cut:
            return index
    return len(LEVEL_CUTS)


def recent_history(points: Sequence[ThetaPoint], last_day: dt.date) -> tuple[ThetaPoint, ...]:
    """Finite-θ points dated within the `HISTORY_WEEKS` weeks ending on ``last_day``, by date."""
    first_day = last_day - dt.timedelta(weeks=HISTORY_WEEKS) + dt.timedelta(days=1)
    kept = [p for p in points if first_day <= p.date <= last_day and finite(p.theta) is not None]
    return tuple(sorted(kept, key=lambda point: point.date))


def current_theta_of(
    theta: float | None, se: float | None, history: Sequence[ThetaPoint]
) -> tuple[float | None, float | None]:
    """Current (θ, SE): the given values, else the latest history point's."""
    if finite(theta) is not None:
        return theta, finite(se)
    if history:
        return history[-1].theta, finite(history[-1].se)
    return None, None


def growth_per_week(history: Sequence[ThetaPoint]) -> float | None:
    """(θ_last − θ_first) / weeks elapsed, or ``None`` with < 2 points or no elapsed time."""
    if len(history) < 2:
        return None
    days = (history[-1].date - history[0].date).days
    if days < MIN_HISTORY_DAYS:
        return None
    return finite((history[-1].theta - history[0].theta) / (days / 7.0))


def growth_category_of(rate: float | None) -> GrowthCategory:
    """Original growth message category for θ growth per week (see `GROWTH_CUTS`)."""
    if rate is None:
        return "unknown"
    for cut, category in GROWTH_CUTS:
        if rate > cut:
            return category  # type: ignore[return-value]
    return "declining"


def churn_band_of(risk: float | None) -> ChurnBand | None:
    """Churn band: low < 0.3 ≤ medium < 0.7 ≤ high; ``None`` when the risk is missing."""
    risk = finite(risk)
    if risk is None:
        return None
    if risk >= CHURN_HIGH:
        return "high"
    return "medium" if risk >= CHURN_MEDIUM else "low"


def items_around(difficulties: npt.NDArray[np.float64], theta: float | None) -> tuple[int, int]:
    """(items easier than θ: b < θ, items harder: b > θ); (0, 0) when θ is missing."""
    if theta is None or difficulties.size == 0:
        return 0, 0
    easier = int(np.count_nonzero(difficulties < theta))
    harder = int(np.count_nonzero(difficulties > theta))
    return easier, harder


def item_balance_of(easier: int, harder: int) -> Literal["easy", "hard", "balanced"] | None:
    """Original 1.5× rule: "easy" when easier ≥ 1.5·harder, "hard" when harder ≥ 1.5·easier."""
    if easier + harder == 0:
        return None
    if easier >= HARDNESS_RATIO * harder:
        return "easy"
    return "hard" if harder >= HARDNESS_RATIO * easier else "balanced"


def accuracy_of(topic: TopicRow) -> float | None:
    """correct / attempts in [0, 1], or ``None`` without attempts."""
    if topic.attempts <= 0:
        return None
    return min(1.0, max(0.0, topic.correct / topic.attempts))
