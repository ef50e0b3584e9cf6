"""The truth/ files describe the data: read both back and check one against the other."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tests.synth.platform_files import END_DATE, SMALL, Written


def attempts(written: Written) -> pd.DataFrame:
    """One row per clean question object: user_id, item_id, correct, day (UTC date), created_at."""
    rows = [
        (
            record["user_id"],
            int(q["question_id"]),
            bool(q.get("is_correct", q.get("correct"))),
            record["created_at"],
        )
        for record in written.clean_records()
        for q in record["result_json"]["questions"]
    ]
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "correct", "created_at"])
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    frame["day"] = frame["created_at"].dt.tz_localize(None).dt.normalize()
    return frame


def true_theta(students: pd.DataFrame, user_id: pd.Series, moment: pd.Series) -> np.ndarray:
    """θ(t) = θ0 + growth · max(0, min(t, churn) − start)/7 days, as documented in meta.json."""
    truth = students.set_index("user_id").loc[user_id]
    start = pd.to_datetime(truth["start_date"]).to_numpy()
    churn = pd.to_datetime(truth["churn_date"].replace("", None)).to_numpy()
    t = moment.dt.tz_localize(None).to_numpy()
    stop = np.where(pd.isna(churn), t, np.minimum(t, churn))
    weeks = np.clip((stop - start) / np.timedelta64(1, "D"), 0, None) / 7.0
    return (
        truth["theta0"].astype(float).to_numpy() + truth["growth_per_week"].astype(float).to_numpy() * weeks
    )


def test_every_question_id_is_in_the_bank_and_every_user_is_known(written: Written) -> None:
    answered = attempts(written)
    assert answered["item_id"].isin(written.questions["id"]).all()
    assert answered["user_id"].isin(written.students["user_id"]).all()


def test_items_are_distinct_within_a_session(written: Written) -> None:
    for record in written.session_records():
        ids = [q["question_id"] for q in record["result_json"]["questions"]]
        assert len(ids) == len(set(ids))


def test_empirical_accuracy_follows_the_true_3pl_probability(written: Written) -> None:
    answered = attempts(written)
    theta = true_theta(written.students, answered["user_id"], answered["created_at"])
    items = written.items.set_index("item_id").loc[answered["item_id"]]
    a, b, c = (items[name].to_numpy() for name in ("a", "b", "c"))
    answered["p"] = c + (1 - c) / (1 + np.exp(-a * (theta - b)))
    assert abs(answered["correct"].mean() - answered["p"].mean()) < 0.01
    per_item = answered.groupby("item_id").agg(n=("p", "size"), p=("p", "mean"), observed=("correct", "mean"))
    per_item = per_item[per_item["n"] >= 40]
    assert len(per_item) > 100
    assert np.corrcoef(per_item["p"], per_item["observed"])[0, 1] > 0.8
    bins = pd.cut(answered["p"], [0, 0.3, 0.5, 0.7, 0.9, 1.0])
    calibration = answered.groupby(bins, observed=True).agg(p=("p", "mean"), observed=("correct", "mean"))
    assert (calibration["p"] - calibration["observed"]).abs().max() < 0.03


def test_no_activity_before_the_start_date_and_some_on_it(written: Written) -> None:
    first_day = attempts(written).groupby("user_id")["day"].min()
    start = pd.to_datetime(written.students.set_index("user_id")["start_date"]).loc[first_day.index]
    assert (first_day >= start).all()
    assert (first_day == start).mean() > 0.95  # the start-day session may hold the odd bad question


def test_churned_students_have_no_results_from_their_churn_date(written: Written) -> None:
    students = written.students.set_index("user_id")
    churned = students[students["churn_date"] != ""]
    assert 0.1 < len(churned) / len(students) < 0.5
    last_day = attempts(written).groupby("user_id")["day"].max()
    churn = pd.to_datetime(churned["churn_date"])
    assert (last_day.reindex(churned.index).dropna() < churn.reindex(last_day.index).dropna()).all()
    assert (churn <= pd.Timestamp(END_DATE)).all()
    disengage = pd.to_datetime(churned["disengage_date"])
    gap_days = (churn - disengage).dt.days
    assert gap_days.between(SMALL.model.disengage_min_days, SMALL.model.disengage_max_days).all()


def test_students_fade_before_they_churn(written: Written) -> None:
    """Sessions per day fall in the weeks before a churn date, compared with before that."""
    students = written.students.set_index("user_id")
    sessions = written.platform.exam_results
    day = sessions["created_at"].dt.tz_localize(None).dt.normalize()
    churned = students[
        (students["churn_date"] != "") & (students["start_date"] <= SMALL.start_date.isoformat())
    ]
    churn = pd.to_datetime(churned["churn_date"]).reindex(sessions["user_id"]).to_numpy()
    days_before = (churn - day.to_numpy()) / np.timedelta64(1, "D")
    fading = np.nansum((days_before > 0) & (days_before <= 14)) / (14 * len(churned))
    earlier = np.nansum(days_before > 28) / np.maximum(
        ((pd.to_datetime(churned["churn_date"]) - pd.Timestamp(SMALL.start_date)).dt.days - 28)
        .clip(lower=0)
        .sum(),
        1,
    )
    assert fading < 0.6 * earlier


def test_low_activity_students_churn_more(written: Written) -> None:
    students = written.students
    rate = students["activity_rate"].astype(float)
    churned = students["churn_date"] != ""
    low = rate < rate.median()
    assert churned[low].mean() > churned[~low].mean() + 0.05


def test_weekly_theta_matches_the_documented_trajectory(written: Written) -> None:
    weekly = written.theta_weekly
    assert (pd.to_datetime(weekly["week_start"]).dt.day_of_week == 0).all()
    monday = pd.to_datetime(weekly["week_start"]).dt.tz_localize("UTC")
    expected = true_theta(written.students, weekly["user_id"], monday)
    assert np.allclose(weekly["theta"], expected, atol=1e-3)
    growth = written.students["growth_per_week"].astype(float)
    assert (growth == 0).mean() > 0.05
    assert 0 < (growth < 0).mean() < 0.15


def test_goal_outcomes_follow_theta_at_the_target_date(written: Written) -> None:
    students = written.students.set_index("user_id")
    with_goal = students[students["goal_topic"] != ""]
    goals = written.goals.set_index("user_id")
    assert set(with_goal.index) == set(goals.index)
    assert (with_goal["goal_topic"] == goals.loc[with_goal.index, "topic_id"]).all()
    known = with_goal[with_goal["reached_goal"] != ""]
    assert (pd.to_datetime(known["target_date"]) <= pd.Timestamp(END_DATE)).all()
    unknown = with_goal[with_goal["reached_goal"] == ""]
    assert (
        (unknown["target_date"] == "") | (pd.to_datetime(unknown["target_date"]) > pd.Timestamp(END_DATE))
    ).all()
    reached = known["reached_goal"] == "true"
    assert (reached == (known["theta_at_target"].astype(float) >= known["target_level"].astype(float))).all()
    end_of_target = (pd.to_datetime(known["target_date"]) + pd.Timedelta(days=1)).dt.tz_localize("UTC")
    expected = true_theta(written.students, pd.Series(known.index), pd.Series(end_of_target.to_numpy()))
    assert np.allclose(known["theta_at_target"].astype(float), expected, atol=1e-3)
    assert 0.2 < reached.mean() < 0.8
