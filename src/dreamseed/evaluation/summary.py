"""From scored forecasts to the evaluation's findings: which populations, which checks, which choices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from dreamseed.evaluation.assessment import Assessment, assess
from dreamseed.evaluation.metrics import brier_gain_interval
from dreamseed.evaluation.selection import ChurnComparison, better_p_method

S_AUC_GOAL = 0.85
S_SLOPE_GOAL = (0.8, 1.2)
P_BRIER_GAIN_GOAL = 0.20
RECENTLY_ACTIVE_DAYS = 7


@dataclass(frozen=True)
class GoalCheck:
    """A target of the evaluation, the measured value and whether it is met."""

    goal: str
    measured: str
    met: bool


@dataclass(frozen=True)
class EvaluationResult:
    """Everything the report shows. ``churn[0]`` is S as the pipeline writes it on held-out weeks."""

    setup: tuple[tuple[str, str], ...]
    churn: tuple[Assessment, ...]
    goal: tuple[Assessment, ...]
    checks: tuple[GoalCheck, ...]
    decisions: tuple[str, ...]
    notes: tuple[str, ...]


def churn_assessments(forecasts: pd.DataFrame, holdout_days: tuple[date, ...]) -> tuple[Assessment, ...]:
    """S (as written) and S_v1 on the held-out weeks, the same for users active in the last 7 days,
    and S_v1 on every week with a known outcome. ``forecasts``: cutoff, S, S_v1, days_since_last,
    no_activity."""
    known = forecasts[forecasts["no_activity"].notna() & forecasts["S_v1"].notna()]
    held = known[known["cutoff"].isin(holdout_days)]
    recent = held[held["days_since_last"].astype(float) < RECENTLY_ACTIVE_DAYS]
    y = "no_activity"
    return (
        assess("S", "held-out weeks", held[y], held["S"]),
        assess("S_v1", "held-out weeks", held[y], held["S_v1"]),
        assess(
            "S", f"held-out weeks, active in the last {RECENTLY_ACTIVE_DAYS} days", recent[y], recent["S"]
        ),
        assess(
            "S_v1",
            f"held-out weeks, active in the last {RECENTLY_ACTIVE_DAYS} days",
            recent[y],
            recent["S_v1"],
        ),
        assess("S_v1", "all weeks with a known outcome", known[y], known["S_v1"]),
    )


def goal_assessments(forecasts: pd.DataFrame) -> tuple[Assessment, ...]:
    """P_static and P_trend on the open goals where both exist, P as written, and P_static on all its
    rows. ``forecasts``: P, P_static, P_trend, reached_goal."""
    known = forecasts[forecasts["reached_goal"].notna()]
    both = _with_both_p_forms(known)
    y = "reached_goal"
    return (
        assess("P_static", "open goals with both forms", both[y], both["P_static"]),
        assess("P_trend", "open goals with both forms", both[y], both["P_trend"]),
        assess("P", "open goals (as written)", known[y], known["P"]),
        assess("P_static", "open goals with a static P", known[y], known["P_static"]),
    )


def _with_both_p_forms(forecasts: pd.DataFrame) -> pd.DataFrame:
    return forecasts[forecasts["P_static"].notna() & forecasts["P_trend"].notna()]


def p_gain_interval(forecasts: pd.DataFrame) -> tuple[float, float]:
    """95% interval of P_trend's Brier gain over P_static on the open goals with both forms, by a
    bootstrap over users (``brier_gain_interval``). ``forecasts``: user_id, P_static, P_trend,
    reached_goal."""
    both = _with_both_p_forms(forecasts[forecasts["reached_goal"].notna()])
    return brier_gain_interval(both["reached_goal"], both["P_static"], both["P_trend"], both["user_id"])


def _fmt(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.3f}"


def goal_checks(
    churn: tuple[Assessment, ...],
    goal: tuple[Assessment, ...],
    gain_interval: tuple[float, float] = (float("nan"), float("nan")),
) -> tuple[GoalCheck, ...]:
    """The issue's targets: S AUC ≥ 0.85, S calibration slope in 0.8–1.2 (held-out weeks), P Brier
    at least 20% below the static formula's (met on the point estimate; ``gain_interval``, the
    gain's 95% interval, is reported with it)."""
    s, static, trend = churn[0].scores, goal[0].scores, goal[1].scores
    gain = 1 - trend.brier / static.brier if static.n and static.brier > 0 else float("nan")
    interval = (
        f"95% interval {gain_interval[0]:.1%}–{gain_interval[1]:.1%}; "
        if all(np.isfinite(gain_interval))
        else ""
    )
    low, high = S_SLOPE_GOAL
    return (
        GoalCheck(f"S ROC-AUC ≥ {S_AUC_GOAL}", _fmt(s.roc_auc), bool(s.roc_auc >= S_AUC_GOAL)),
        GoalCheck(
            f"S calibration slope in {low}–{high}",
            _fmt(s.calibration_slope),
            bool(low <= s.calibration_slope <= high),
        ),
        GoalCheck(
            f"P Brier ≥ {P_BRIER_GAIN_GOAL:.0%} better than static",
            "n/a"
            if not np.isfinite(gain)
            else f"{gain:.1%} ({interval}trend {_fmt(trend.brier)} vs static {_fmt(static.brier)})",
            bool(gain >= P_BRIER_GAIN_GOAL),
        ),
    )


def p_method_decision(goal: tuple[Assessment, ...]) -> str:
    """The METRICS_P_METHOD the evaluation recommends (see ``better_p_method``)."""
    return better_p_method(goal[0].scores, goal[1].scores)


def churn_decision(comparison: ChurnComparison | None, model_label: str | None) -> str:
    """One sentence: which S the pipeline writes after this evaluation, and why."""
    if comparison is None or model_label is None:
        return "S = S_v1 (no learned churn model could be trained on this history)."
    m, b = comparison.model, comparison.baseline
    figures = f"held-out ROC-AUC {_fmt(m.roc_auc)} vs S_v1 {_fmt(b.roc_auc)}, Brier {_fmt(m.brier)} vs {_fmt(b.brier)}"
    if comparison.model_wins:
        return f"S = the learned churn model {model_label} ({figures}): it beat S_v1, so it is active; S_v1 is kept."
    return (
        f"S = S_v1: the learned churn model {model_label} did not beat it ({figures}), so it is not active."
    )


def evaluation_result(
    forecasts: pd.DataFrame,
    holdout_days: tuple[date, ...],
    comparison: ChurnComparison | None,
    model_label: str | None,
    setup: tuple[tuple[str, str], ...],
    notes: tuple[str, ...] = (),
) -> EvaluationResult:
    """Assess the forecasts (with outcomes) and state the checks and choices."""
    churn = churn_assessments(forecasts, holdout_days)
    goal = goal_assessments(forecasts)
    method = p_method_decision(goal)
    static, trend = goal[0].scores, goal[1].scores
    p_sentence = (
        f"METRICS_P_METHOD = {method}: on {trend.n} open goals with both forms, Brier trend "
        f"{_fmt(trend.brier)} vs static {_fmt(static.brier)}."
        if trend.n
        else "METRICS_P_METHOD = static: no open goal had a trend-form P (no θ history), so the trend form "
        "could not be shown to be better calibrated."
    )
    return EvaluationResult(
        setup=setup,
        churn=churn,
        goal=goal,
        checks=goal_checks(churn, goal, p_gain_interval(forecasts)),
        decisions=(churn_decision(comparison, model_label), p_sentence),
        notes=notes,
    )
