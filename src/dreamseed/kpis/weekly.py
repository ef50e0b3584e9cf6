"""All KPIs of all users as of one day: the frame compute-daily-kpis writes into ``weekly_kpi``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd

from dreamseed.kpis._inputs import user_index
from dreamseed.kpis.attempts import prepare_attempts
from dreamseed.kpis.churn import churn_activity, churn_bands
from dreamseed.kpis.efficiency import time_efficiency
from dreamseed.kpis.engagement import engagement
from dreamseed.kpis.goal_probability import goal_attainment_probability
from dreamseed.kpis.growth_trend import (
    estimate_growth_prior,
    growth_trend,
    projection_trend,
    timed_answers,
)
from dreamseed.kpis.improvement import improvement_index
from dreamseed.kpis.parameters import KpiParameters
from dreamseed.kpis.recovery import recovery_rate
from dreamseed.kpis.slope_prior import SlopePrior
from dreamseed.kpis.theta_history import prepare_theta_history
from dreamseed.kpis.theta_trend import trend_of_points

KPI_COLUMNS = ("I_t", "I_t_z", "E_t", "R_t", "A_t", "P", "S")
EXTRA_COLUMNS = (
    "I_t_mode",
    "n_recent",
    "P_static",
    "P_trend",
    "P_method",
    "P_target",
    "S_v1",
    "S_band",
    "days_since_last",
    "sessions_56d",
    "mean_gap_days",
)


def compute_kpis(
    *,
    users: Iterable[str] | pd.Index | pd.Series,
    attempts: pd.DataFrame,
    as_of: date,
    theta_history: pd.DataFrame | None = None,
    abilities: pd.DataFrame | None = None,
    goals: pd.DataFrame | None = None,
    parameters: KpiParameters | None = None,
    item_bank: pd.DataFrame | None = None,
    slope_prior: SlopePrior | None = None,
) -> pd.DataFrame:
    """One row per user (index ``user_id``, in ``users`` order): ``KPI_COLUMNS`` + ``EXTRA_COLUMNS``.

    Only data dated on or before ``as_of`` (UTC dates) counts. KPIs are NaN (never 0) where
    their data is missing; text columns are None there. S_v1 is the heuristic S (today S = S_v1).
    P's trend form projects θ now and its slope per day: fitted to the user's answers on the items
    of ``item_bank`` (``growth_trend``; columns ``ITEM_BANK_COLUMNS``) where there are any, else
    from the θ history. ``slope_prior`` is the population's distribution of slopes (θ/day) both
    shrink towards; without one, it is estimated from these users' answers when there is an item
    bank (``estimate_growth_prior``), else history slopes are used as fitted.
    """
    parameters = parameters or KpiParameters()
    index = user_index(users)
    prepared = prepare_attempts(attempts, index, as_of)
    points = prepare_theta_history(theta_history, index, as_of)
    improvement = improvement_index(prepared, points, parameters)
    growth = None
    if item_bank is not None and not item_bank.empty:
        answers = timed_answers(prepared, item_bank)
        slope_prior = slope_prior or estimate_growth_prior(answers)
        growth = growth_trend(answers, index, slope_prior)
    trend = projection_trend(growth, trend_of_points(points, index, parameters), slope_prior)
    probability = goal_attainment_probability(index, abilities, goals, trend, as_of, parameters)
    churn = churn_activity(prepared, parameters)
    frame = pd.concat(
        [
            improvement,
            time_efficiency(prepared),
            recovery_rate(prepared),
            engagement(prepared),
            probability,
            churn.assign(S_v1=churn["S"], S_band=churn_bands(churn["S"])),
        ],
        axis=1,
    )
    return frame[list(KPI_COLUMNS + EXTRA_COLUMNS)]
