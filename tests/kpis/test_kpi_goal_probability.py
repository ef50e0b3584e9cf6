"""P: the static Normal form from the latest ability and the θ-trend projection to the target date."""

from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd
import pytest
from scipy.stats import norm

from dreamseed.kpis import KpiParameters, compute_kpis


def _abilities(mean: float, sd: float, user: str = "u1") -> pd.DataFrame:
    return pd.DataFrame({"user_id": [user], "mean": [mean], "sd": [sd]})


def _goal(as_of, level: float, days_ahead: int | None) -> pd.DataFrame:
    target = as_of + timedelta(days=days_ahead) if days_ahead is not None else None
    return pd.DataFrame({"user_id": ["u1"], "target_level": [level], "target_date": [target]})


def _row(make_attempts, as_of, **inputs) -> pd.Series:
    return compute_kpis(users=["u1"], attempts=make_attempts([]), as_of=as_of, **inputs).loc["u1"]


def test_static_p_is_one_half_at_the_mean(make_attempts, as_of):
    row = _row(make_attempts, as_of, abilities=_abilities(0.0, 1.0))
    assert row["P"] == pytest.approx(0.5)
    assert row["P_method"] == "static"


@pytest.mark.parametrize("sd", [0.0, -1.0, float("nan")])
def test_static_p_is_null_without_a_positive_sd(make_attempts, as_of, sd):
    row = _row(make_attempts, as_of, abilities=_abilities(0.0, sd))
    assert math.isnan(row["P"])
    assert row["P_method"] is None


def test_static_p_is_null_without_an_ability(make_attempts, as_of):
    assert math.isnan(_row(make_attempts, as_of, abilities=_abilities(0.0, 1.0, user="u2"))["P"])
    assert math.isnan(_row(make_attempts, as_of)["P"])


def test_the_goal_or_the_default_target_sets_theta_star(make_attempts, as_of):
    by_goal = _row(make_attempts, as_of, abilities=_abilities(1.0, 1.0), goals=_goal(as_of, 1.0, None))
    assert by_goal["P"] == pytest.approx(0.5)
    assert by_goal["P_target"] == 1.0
    by_default = _row(
        make_attempts, as_of, abilities=_abilities(1.0, 2.0), parameters=KpiParameters(default_target=2.0)
    )
    assert by_default["P"] == pytest.approx(1 - norm.cdf((2.0 - 1.0) / 2.0))


def test_trend_p_projects_theta_to_the_target_date(make_attempts, make_theta, as_of):
    history = make_theta([("u1", 20, -0.2, 0.1), ("u1", 10, 0.0, 0.1), ("u1", 0, 0.2, 0.1)])
    row = _row(
        make_attempts,
        as_of,
        theta_history=history,
        abilities=_abilities(0.0, 1.0),
        goals=_goal(as_of, 0.5, 30),
    )
    slope, slope_variance = 0.02, 1 / (100 * 200)  # w = 1/0.1², Σw(t−t̄)² = 100·(10² + 0 + 10²)
    mean_at_target = 0.2 + slope * 30
    sd_at_target = math.sqrt(0.1**2 + 30**2 * slope_variance + 0.001 * 30)
    assert row["P_trend"] == pytest.approx(norm.cdf((mean_at_target - 0.5) / sd_at_target))
    assert row["P"] == row["P_trend"]
    assert row["P_method"] == "trend"
    assert row["P_static"] == pytest.approx(1 - norm.cdf(0.5))


def test_a_past_target_date_projects_nothing(make_attempts, make_theta, as_of):
    history = make_theta([("u1", 20, -0.2, 0.1), ("u1", 0, 0.2, 0.1)])
    row = _row(make_attempts, as_of, theta_history=history, goals=_goal(as_of, 0.0, -10))
    assert row["P_trend"] == pytest.approx(norm.cdf(0.2 / 0.1))


def test_without_a_target_date_p_falls_back_to_static(make_attempts, make_theta, as_of):
    history = make_theta([("u1", 20, -0.2, 0.1), ("u1", 0, 0.2, 0.1)])
    row = _row(
        make_attempts,
        as_of,
        theta_history=history,
        abilities=_abilities(0.0, 1.0),
        goals=_goal(as_of, 0.0, None),
    )
    assert math.isnan(row["P_trend"])
    assert row["P"] == pytest.approx(0.5)
    assert row["P_method"] == "static"


def test_p_method_chooses_the_form(make_attempts, make_theta, as_of):
    history = make_theta([("u1", 20, -0.2, 0.1), ("u1", 0, 0.2, 0.1)])
    inputs = {"theta_history": history, "abilities": _abilities(0.0, 1.0), "goals": _goal(as_of, 0.0, 30)}
    static = _row(make_attempts, as_of, parameters=KpiParameters(p_method="static"), **inputs)
    assert static["P"] == pytest.approx(0.5)
    only_trend = _row(
        make_attempts, as_of, parameters=KpiParameters(p_method="trend"), abilities=_abilities(0.0, 1.0)
    )
    assert math.isnan(only_trend["P"])
    with pytest.raises(ValueError, match="p_method"):
        KpiParameters(p_method="bayes")  # type: ignore[arg-type]


def test_the_highest_priority_then_earliest_goal_wins(make_attempts, make_theta, as_of):
    goals = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u1"],
            "topic_id": ["a", "b", "c"],
            "target_level": [3.0, 1.0, 2.0],
            "target_date": [None, as_of + timedelta(days=40), as_of + timedelta(days=10)],
            "priority": [0, 1, 1],
        }
    )
    row = _row(make_attempts, as_of, abilities=_abilities(0.0, 1.0), goals=goals)
    assert row["P_target"] == 2.0
