"""From the week's frames to ReportData: grouping, topic table, daily counts, inactivity, goals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from dreamseed.reports import Kpis, ReportData
from dreamseed.reports.inputs import WeeklyReportFrames, report_data_by_user, rows_by_user

WEEK = date(2026, 11, 16)
KPI_FRAME_COLUMNS = [
    "user_id",
    "week_start",
    "I_t",
    "E_t",
    "R_t",
    "A_t",
    "P",
    "S",
    "P_target",
    "days_inactive",
    "inactive",
    "inactive_since",
]


def kpi_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame([{"week_start": WEEK, **row} for row in rows]).reindex(columns=KPI_FRAME_COLUMNS)
    frame["inactive"] = frame["inactive"].astype("Int8")
    return frame


def frames(kpis: pd.DataFrame, **parts: pd.DataFrame) -> WeeklyReportFrames:
    empty = {
        "theta_history": pd.DataFrame(columns=["user_id", "date", "theta", "se"]),
        "topic_days": pd.DataFrame(
            columns=["user_id", "topic_id", "date", "attempts", "correct", "theta", "se"]
        ),
        "seen_difficulties": pd.DataFrame(columns=["user_id", "b"]),
        "goals": pd.DataFrame(columns=["user_id", "topic_id", "target_level", "target_date"]),
    }
    return WeeklyReportFrames(WEEK, kpis, item_difficulties=np.array([-1.0, 0.0, 1.0]), **{**empty, **parts})


def by_user(week: WeeklyReportFrames) -> dict[str, ReportData]:
    return {
        data.user_id: data for data in report_data_by_user(week, datetime(2026, 11, 23, 4, tzinfo=UTC), "en")
    }


@given(st.lists(st.tuples(st.sampled_from("abcde"), st.integers(0, 100)), max_size=40))
def test_rows_by_user_is_a_grouping_that_keeps_each_users_order(pairs: list[tuple[str, int]]) -> None:
    frame = pd.DataFrame(pairs, columns=["user_id", "value"])
    expected: dict[str, list[tuple[int]]] = {}
    for user, value in pairs:
        expected.setdefault(user, []).append((value,))
    assert rows_by_user(frame, ["value"]) == expected


def test_topics_daily_counts_and_the_bank() -> None:
    days = pd.DataFrame(
        [
            ("u", "algebra", WEEK, 10, 7, 0.2, 0.4),
            ("u", "algebra", WEEK + timedelta(days=2), 6, 3, 0.35, 0.3),
            ("u", "algebra", WEEK + timedelta(days=3), 2, 2, np.nan, np.nan),
            ("u", "geometry", WEEK + timedelta(days=6), 30, 10, np.nan, np.nan),
        ],
        columns=["user_id", "topic_id", "date", "attempts", "correct", "theta", "se"],
    )
    data = by_user(frames(kpi_frame([{"user_id": "u"}]), topic_days=days))["u"]
    assert [(t.topic_id, t.attempts, t.correct, t.theta, t.se) for t in data.topics] == [
        ("geometry", 30, 10, None, None),
        ("algebra", 18, 12, 0.35, 0.3),
    ]
    assert data.daily_attempts == (10, 0, 6, 2, 0, 0, 30)
    assert data.item_difficulties == (-1.0, 0.0, 1.0)
    assert data.kpis == Kpis()
    assert data.goal is None


def test_inactivity_shows_only_while_flagged() -> None:
    kpis = kpi_frame(
        [
            {"user_id": "flagged", "inactive": 1, "inactive_since": "2026-11-20", "days_inactive": 2.0},
            {"user_id": "returned", "inactive": 0, "inactive_since": "2026-11-10", "days_inactive": np.nan},
            {"user_id": "legacy", "inactive_since": "2026-11-12"},
        ]
    )
    reports = by_user(frames(kpis))
    assert (reports["flagged"].inactive_since, reports["flagged"].days_inactive) == (date(2026, 11, 20), 2)
    assert reports["returned"].inactive_since is None
    assert reports["legacy"].inactive_since == date(2026, 11, 12)


def test_goal_probability_is_p_and_target_falls_back_to_p_target() -> None:
    kpis = kpi_frame([{"user_id": "u", "P": 0.62, "P_target": 1.5}, {"user_id": "v"}])
    goals = pd.DataFrame(
        [("u", "algebra", np.nan, pd.NaT), ("v", "geometry", 0.8, date(2027, 1, 31))],
        columns=["user_id", "topic_id", "target_level", "target_date"],
    )
    reports = by_user(frames(kpis, goals=goals))
    u_goal, v_goal = reports["u"].goal, reports["v"].goal
    assert u_goal is not None
    assert v_goal is not None
    assert u_goal.topic == "algebra"
    assert u_goal.target_level == 1.5
    assert u_goal.probability == 0.62
    assert u_goal.target_date is None
    assert v_goal.target_date == date(2027, 1, 31)
    assert v_goal.probability is None


def test_previous_week_kpis_and_only_this_weeks_users() -> None:
    kpis = pd.concat(
        [
            kpi_frame([{"user_id": "u", "A_t": 0.75}]),
            kpi_frame([{"user_id": "u", "A_t": 0.5}, {"user_id": "old", "S": 0.1}]).assign(
                week_start=WEEK - timedelta(days=7)
            ),
        ]
    )
    reports = by_user(frames(kpis))
    assert list(reports) == ["u"]
    previous = reports["u"].previous_kpis
    assert previous is not None
    assert reports["u"].kpis.A_t == 0.75
    assert previous.A_t == 0.5
