"""The written files have the documented formats."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import numpy as np
import pandas as pd
from tests.synth.platform_files import END_DATE, SMALL, Written

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
LINE_KEYS = [
    "session_id",
    "user_id",
    "exam_id",
    "status",
    "result_json",
    "created_at",
    "updated_at",
    "org_id",
]
QUESTION_KEYS = {"question_id", "topic", "time_spent_sec", "used_hints"}


def parse_utc(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


def check_question(question: dict[str, Any]) -> None:
    correctness = {"is_correct", "correct"} & question.keys()
    assert len(correctness) == 1
    assert set(question) == QUESTION_KEYS | correctness
    assert isinstance(question["question_id"], str)
    assert question["question_id"].isdigit()
    assert isinstance(question[correctness.pop()], bool)
    seconds = question["time_spent_sec"]
    assert isinstance(seconds, float)
    assert seconds >= 0
    assert round(seconds, 1) == seconds
    assert isinstance(question["used_hints"], int)
    assert question["used_hints"] >= 0


def test_every_good_line_is_a_session_with_the_documented_keys(written: Written) -> None:
    records = written.session_records()
    assert len(records) == len(written.platform.exam_results)
    assert len(written.clean_records()) == len(records) - (written.bad_rows["question_index"] >= 0).sum()
    for record in written.clean_records():
        assert list(record) == LINE_KEYS
        assert isinstance(record["exam_id"], int)
        assert record["status"] == "completed"
        assert re.fullmatch(r"u\d{6}", record["user_id"])
        assert TIMESTAMP.match(record["created_at"])
        assert TIMESTAMP.match(record["updated_at"])
        result = record["result_json"]
        assert list(result) == ["questions", "score_raw"]
        assert 5 <= len(result["questions"]) <= 40
        assert result["score_raw"] == sum(q.get("is_correct", q.get("correct")) for q in result["questions"])


def test_question_objects_are_well_formed_except_the_listed_bad_ones(written: Written) -> None:
    corrupted = {
        (row.source_session_id, row.question_index)
        for row in written.bad_rows.itertuples()
        if row.question_index >= 0
    }
    for record in written.session_records():
        for index, question in enumerate(record["result_json"]["questions"]):
            if (record["session_id"], index) not in corrupted:
                check_question(question)


def test_about_a_fifth_of_questions_use_the_alternative_correct_key(written: Written) -> None:
    keys = [("correct" in q) for r in written.clean_records() for q in r["result_json"]["questions"]]
    assert 0.17 < np.mean(keys) < 0.23


def test_sessions_are_ordered_inside_the_period_and_last_their_question_time(written: Written) -> None:
    records = written.clean_records()
    created = [parse_utc(r["created_at"]) for r in records]
    assert created == sorted(created)
    first = dt.datetime.combine(SMALL.start_date, dt.time(), dt.UTC)
    end = dt.datetime.combine(END_DATE + dt.timedelta(days=1), dt.time(), dt.UTC)
    for record, began in zip(records, created, strict=True):
        finished = parse_utc(record["updated_at"])
        total = sum(q["time_spent_sec"] for q in record["result_json"]["questions"])
        assert first <= began <= finished < end
        assert (finished - began).total_seconds() == math.ceil(round(total, 1))
    assert len({r["session_id"] for r in records}) == len(records)


def test_study_times_are_korean_afternoons_and_evenings(written: Written) -> None:
    created = written.platform.exam_results["created_at"]
    kst_hour = (created.dt.hour + 9) % 24
    assert kst_hour.between(14, 23).mean() > 0.8
    assert not kst_hour.between(3, 8).any()


def test_sessions_average_twenty_odd_questions(written: Written) -> None:
    sizes = written.platform.exam_results["n_questions"]
    assert sizes.between(5, 40).all()
    assert 19 <= sizes.mean() <= 24


def test_questions_csv_has_the_bank_with_true_parameters_only_for_anchors(written: Written) -> None:
    questions, items = written.questions, written.items
    assert list(questions.columns) == ["id", "topic_id", "difficulty", "content", "a", "b", "c", "tags"]
    assert len(questions) == SMALL.topics * SMALL.items_per_topic
    assert questions["id"].is_unique
    anchor = questions["tags"].str.split(";").apply(lambda tags: "anchor" in tags)
    assert 0.05 < anchor.mean() < 0.15
    merged = questions.merge(items, left_on="id", right_on="item_id", suffixes=("", "_true"))
    for name in ("a", "b", "c"):
        assert (merged.loc[anchor, name] == merged.loc[anchor, f"{name}_true"]).all()
        assert merged.loc[~anchor, name].isna().all()
    assert (merged.loc[anchor, "difficulty"] == merged.loc[anchor, "b_true"]).all()
    assert np.corrcoef(merged["difficulty"], merged["b_true"])[0, 1] > 0.9
    assert (questions["topic_id"] == items["topic_id"]).all()


def test_goals_csv_has_one_goal_for_most_students(written: Written) -> None:
    goals = written.goals
    assert list(goals.columns) == [
        "user_id",
        "topic_id",
        "target_level",
        "priority",
        "target_date",
        "created_at",
    ]
    assert goals["user_id"].is_unique
    assert 0.75 < len(goals) / SMALL.students < 0.95
    assert goals["topic_id"].isin(written.items["topic_id"]).all()
    assert goals["created_at"].str.match(TIMESTAMP.pattern).all()
    dated = goals["target_date"].dropna()
    assert 0 < goals["target_date"].isna().sum() < 0.2 * len(goals)
    inside = pd.to_datetime(dated) <= pd.Timestamp(END_DATE)
    assert 0.4 < inside.mean() < 0.95


def test_meta_records_seed_period_counts_and_parameters(written: Written) -> None:
    meta = written.meta
    assert meta["seed"] == SMALL.seed
    assert meta["end_date"] == END_DATE.isoformat()
    assert meta["start_date"] == SMALL.start_date.isoformat()
    assert meta["counts"]["sessions"] == len(written.platform.exam_results)
    assert meta["counts"]["questions"] == written.platform.exam_results["n_questions"].sum()
    assert meta["counts"]["bad_rows"] == len(written.bad_rows) == SMALL.bad_rows
    assert meta["parameters"]["model"]["anchor_share"] == SMALL.model.anchor_share
