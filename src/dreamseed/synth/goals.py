"""Goals (a θ target on a topic, with a target date) and whether each was reached."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

from dreamseed.synth.config import SynthConfig
from dreamseed.synth.students import Students, theta_at

NO_DAY = -(10**6)  # marks a missing target date in the day arrays


@dataclasses.dataclass(frozen=True)
class Goals:
    """One optional goal per student, arrays (students,).

    `has_goal` says who has one; `topic` is a topic index, `target_level` a θ target (rounded to
    0.1), `created_day` and `target_day` count days from the period start (`target_day` is NO_DAY
    for goals without a date), `created_second` the second of the UTC day the goal was set.
    `theta_at_target` is the true θ at the end of the target day, `reached` whether it is ≥ the
    target, and `known` whether the outcome is known (a target date within the period).
    """

    has_goal: np.ndarray
    topic: np.ndarray
    target_level: np.ndarray
    created_day: np.ndarray
    created_second: np.ndarray
    target_day: np.ndarray
    theta_at_target: np.ndarray
    reached: np.ndarray
    known: np.ndarray


def student_goals(
    config: SynthConfig, students: Students, stop_day: np.ndarray, rng: np.random.Generator
) -> Goals:
    """Goals on each student's favourite topic, set 0–3 days before joining, due 2 to 1.25·weeks weeks later.

    target = θ0 + U(goal_gap_min, goal_gap_max); outcomes use the true θ (frozen after churn).
    """
    model, n = config.model, students.count
    has_goal = rng.random(n) < model.goal_share
    created_day = students.start_day - rng.integers(0, 4, n)
    horizon_weeks = rng.uniform(2.0, max(3.0, 1.25 * config.weeks), n)
    dated = rng.random(n) >= model.goal_no_date_share
    target_day = np.where(dated, created_day + np.rint(7.0 * horizon_weeks).astype(np.int64), NO_DAY)
    target_level = np.round(students.theta0 + rng.uniform(model.goal_gap_min, model.goal_gap_max, n), 1)
    theta_target = np.round(theta_at(students, stop_day, target_day + 1.0), 4)
    known = has_goal & dated & (target_day <= config.days - 1)
    return Goals(
        has_goal=has_goal,
        topic=students.favourite_topic,
        target_level=target_level,
        created_day=created_day,
        created_second=rng.integers(0, 86_400, n),
        target_day=target_day,
        theta_at_target=theta_target,
        reached=theta_target >= target_level,
        known=known,
    )


def day_to_iso(start_date: dt.date, day: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """ISO dates (object array of str) for day offsets from `start_date`; '' where `missing`."""
    dates = np.datetime64(start_date.isoformat(), "D") + np.where(missing, 0, day).astype("timedelta64[D]")
    return np.where(missing, "", np.datetime_as_string(dates, unit="D")).astype(object)
