"""The truth tables (students, weekly θ) and the platform's goals.csv, as frames of strings and numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dreamseed.synth.config import SynthConfig
from dreamseed.synth.goals import NO_DAY, Goals, day_to_iso
from dreamseed.synth.items import ItemBank
from dreamseed.synth.simulate import SimulatedActivity
from dreamseed.synth.students import Students, theta_at


def truth_students_frame(
    config: SynthConfig,
    students: Students,
    activity: SimulatedActivity,
    goals: Goals,
    bank: ItemBank,
    user_ids: np.ndarray,
) -> pd.DataFrame:
    """`truth/students.csv`, one row per student.

    Columns: user_id, theta0, growth_per_week, activity_rate (base sessions per week),
    start_date, disengage_date, churn_date, theta_end (θ at the end of the period), goal_topic,
    target_level, target_date, reached_goal ("true"/"false"/""), theta_at_target. Dates are ISO;
    '' marks "none within the period" or "no goal".
    """
    last_day = config.days - 1
    stop = activity.stop_day

    def iso(day: np.ndarray, missing: np.ndarray) -> np.ndarray:
        return day_to_iso(config.start_date, day, missing)

    return pd.DataFrame(
        {
            "user_id": user_ids,
            "theta0": students.theta0,
            "growth_per_week": students.growth,
            "activity_rate": students.rate,
            "start_date": iso(students.start_day, np.zeros(students.count, dtype=bool)),
            "disengage_date": iso(
                _finite_days(activity.disengage_day), ~(activity.disengage_day <= last_day)
            ),
            "churn_date": iso(_finite_days(stop), ~(stop <= last_day)),
            "theta_end": np.round(theta_at(students, stop, np.full(students.count, float(config.days))), 4),
            **_goal_truth_columns(config, goals, bank),
        }
    )


def _goal_truth_columns(config: SynthConfig, goals: Goals, bank: ItemBank) -> dict[str, np.ndarray]:
    none = ~goals.has_goal
    topic_names = np.asarray(bank.topic_names, dtype=object)
    undated = goals.target_day == NO_DAY
    return {
        "goal_topic": np.where(none, "", topic_names[goals.topic]).astype(object),
        "target_level": np.where(none, np.nan, goals.target_level),
        "target_date": day_to_iso(config.start_date, goals.target_day, none | undated),
        "reached_goal": np.where(goals.known, np.where(goals.reached, "true", "false"), "").astype(object),
        "theta_at_target": np.where(goals.known, goals.theta_at_target, np.nan),
    }


def _finite_days(days: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(days), days, 0).astype(np.int64)


def goals_frame(config: SynthConfig, goals: Goals, bank: ItemBank, user_ids: np.ndarray) -> pd.DataFrame:
    """`goals.csv`: user_id, topic_id, target_level, priority, target_date ('' if none), created_at."""
    has = goals.has_goal
    undated = goals.target_day[has] == NO_DAY
    created = np.datetime64(config.start_date.isoformat(), "s") + (
        goals.created_day[has] * 86_400 + goals.created_second[has]
    ).astype("timedelta64[s]")
    return pd.DataFrame(
        {
            "user_id": user_ids[has],
            "topic_id": np.asarray(bank.topic_names, dtype=object)[goals.topic[has]],
            "target_level": goals.target_level[has],
            "priority": 1,
            "target_date": day_to_iso(config.start_date, goals.target_day[has], undated),
            "created_at": np.char.add(np.datetime_as_string(created, unit="s"), "Z").astype(object),
        }
    )


def theta_weekly_frame(
    config: SynthConfig, students: Students, stop_day: np.ndarray, user_ids: np.ndarray
) -> pd.DataFrame:
    """`truth/theta_weekly.csv`: user_id, week_start (ISO Monday), theta (true θ at 00:00 UTC that Monday).

    Mondays from the one on or before the period start to the one on or before its end; a student
    appears from the week in which they joined.
    """
    first_monday = -config.start_date.weekday()
    mondays = np.arange(first_monday, config.days, 7)
    who, week = np.nonzero(mondays[None, :] + 7 > students.start_day[:, None])
    day = mondays[week].astype(np.float64)
    theta = theta_at(students, stop_day, day, who=who)
    return pd.DataFrame(
        {
            "user_id": user_ids[who],
            "week_start": day_to_iso(config.start_date, mondays[week], np.zeros(who.size, dtype=bool)),
            "theta": np.round(theta, 4),
        }
    )
