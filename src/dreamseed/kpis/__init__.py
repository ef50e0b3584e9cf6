"""Pure KPI library (DESIGN §5): frames of all users in, one row per user out.

No database, clock, environment or settings here: the jobs read frames and pass plain values.
"""

from dreamseed.kpis.attempts import ATTEMPT_COLUMNS, LOOKBACK_DAYS, AttemptArrays, prepare_attempts
from dreamseed.kpis.churn import churn_activity, churn_band, churn_bands, churn_risk
from dreamseed.kpis.efficiency import time_efficiency
from dreamseed.kpis.engagement import engagement
from dreamseed.kpis.goal_probability import (
    ABILITY_COLUMNS,
    GOAL_COLUMNS,
    goal_attainment_probability,
    static_probability,
    trend_probability,
)
from dreamseed.kpis.growth_trend import (
    ITEM_BANK_COLUMNS,
    PROJECTION_COLUMNS,
    estimate_growth_prior,
    growth_trend,
    projection_trend,
    timed_answers,
)
from dreamseed.kpis.improvement import improvement_index
from dreamseed.kpis.parameters import KpiParameters, PMethod
from dreamseed.kpis.recovery import recovery_rate
from dreamseed.kpis.slope_prior import SlopePrior, default_slope_prior, estimate_slope_prior, shrunk_slopes
from dreamseed.kpis.theta_history import THETA_HISTORY_COLUMNS, ThetaPoints, prepare_theta_history
from dreamseed.kpis.theta_trend import TREND_COLUMNS, theta_trend, trend_of_points
from dreamseed.kpis.weekly import EXTRA_COLUMNS, KPI_COLUMNS, compute_kpis

__all__ = [
    "ABILITY_COLUMNS",
    "ATTEMPT_COLUMNS",
    "EXTRA_COLUMNS",
    "GOAL_COLUMNS",
    "ITEM_BANK_COLUMNS",
    "KPI_COLUMNS",
    "LOOKBACK_DAYS",
    "PROJECTION_COLUMNS",
    "THETA_HISTORY_COLUMNS",
    "TREND_COLUMNS",
    "AttemptArrays",
    "KpiParameters",
    "PMethod",
    "SlopePrior",
    "ThetaPoints",
    "churn_activity",
    "churn_band",
    "churn_bands",
    "churn_risk",
    "compute_kpis",
    "default_slope_prior",
    "engagement",
    "estimate_growth_prior",
    "estimate_slope_prior",
    "goal_attainment_probability",
    "growth_trend",
    "improvement_index",
    "prepare_attempts",
    "prepare_theta_history",
    "projection_trend",
    "recovery_rate",
    "shrunk_slopes",
    "static_probability",
    "theta_trend",
    "time_efficiency",
    "timed_answers",
    "trend_of_points",
    "trend_probability",
]
