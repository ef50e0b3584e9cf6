"""Invariants that hold for any small configuration (hypothesis)."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dreamseed.synth import SynthConfig, generate_platform, write_platform

configs = st.builds(
    SynthConfig,
    students=st.integers(1, 40),
    weeks=st.integers(1, 4),
    seed=st.integers(0, 2**32),
    end_date=st.dates(dt.date(2020, 1, 1), dt.date(2035, 12, 31)),
    topics=st.integers(1, 6),
    items_per_topic=st.integers(10, 25),
    bad_rows=st.integers(0, 1),  # every student has a session on their first day
)


@settings(max_examples=25, deadline=None)
@given(configs)
def test_generated_platforms_keep_their_invariants(config: SynthConfig) -> None:
    platform = generate_platform(config)
    sessions, questions = platform.exam_results, platform.exam_questions
    assert sessions["n_questions"].between(5, 40).all()
    assert (sessions["n_questions"] <= 2 * config.items_per_topic).all()
    assert len(questions) == sessions["n_questions"].sum()
    assert not questions.duplicated(["session_row", "question_id"]).any()
    assert set(sessions["user_id"]) == set(platform.truth_students["user_id"])  # everyone studies on day one
    assert (sessions["created_at"] <= sessions["updated_at"]).all()
    assert sessions["created_at"].is_monotonic_increasing
    period_start = np.datetime64(config.start_date.isoformat())
    period_end = np.datetime64((config.end_date + dt.timedelta(days=1)).isoformat())
    created = sessions["created_at"].dt.tz_localize(None).to_numpy()
    updated = sessions["updated_at"].dt.tz_localize(None).to_numpy()
    assert (created >= period_start).all()
    assert (updated < period_end).all()
    churn = platform.truth_students.set_index("user_id")["churn_date"].replace("", "9999-12-31")
    churn_day = churn.loc[sessions["user_id"]].to_numpy().astype("datetime64[D]")
    assert (created < churn_day).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_tiny_platforms_write_valid_json_lines(seed: int) -> None:
    config = SynthConfig(
        students=3, weeks=1, seed=seed, end_date=dt.date(2026, 1, 4), topics=1, items_per_topic=10
    )
    with tempfile.TemporaryDirectory() as directory:
        write_platform(generate_platform(config), Path(directory))
        lines = (Path(directory) / "exam_results.jsonl").read_text("utf-8").splitlines()
    assert lines
    assert all(json.loads(line)["result_json"]["questions"] for line in lines)


def test_invalid_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="students must be ≥ 1; items_per_topic must be ≥ 10"):
        SynthConfig(students=0, weeks=1, seed=0, end_date=dt.date(2026, 1, 1), items_per_topic=5)
