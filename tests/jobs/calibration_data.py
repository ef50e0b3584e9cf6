"""A small synthetic platform with known truth, loaded through ingestion, for the calibration tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from dreamseed.ingest.files import csv_records, exam_result_records, numbered_lines
from dreamseed.ingest.records import check_question
from dreamseed.storage import ingest
from dreamseed.synth import SynthConfig, SynthPlatform, generate_platform, write_platform

END = dt.date(2026, 11, 20)
CONFIG = SynthConfig(students=300, weeks=6, seed=11, end_date=END, topics=2, items_per_topic=30)


def written_platform(out: Path) -> SynthPlatform:
    platform = generate_platform(CONFIG)
    write_platform(platform, out)
    return platform


def load_platform(engine: Engine, out: Path) -> None:
    """questions.csv and exam_results.jsonl through the production ingestion path."""
    ingest.load_questions(engine, csv_records(out / "questions.csv", check_question), "questions.csv")
    ingest.load_exam_results(
        engine, exam_result_records(numbered_lines(out / "exam_results.jsonl")), "exam_results.jsonl"
    )


def answers(platform: SynthPlatform) -> pd.DataFrame:
    """Every generated answer: user_id, item_id, topic_id, correct, day (UTC date)."""
    questions, sessions = platform.exam_questions, platform.exam_results
    rows = sessions.iloc[questions["session_row"].to_numpy()]
    return pd.DataFrame(
        {
            "user_id": rows["user_id"].to_numpy(),
            "item_id": questions["question_id"].to_numpy(),
            "topic_id": questions["topic_id"].to_numpy(),
            "correct": questions["is_correct"].to_numpy(),
            "day": pd.to_datetime(rows["updated_at"], utc=True).dt.date.to_numpy(),
        }
    )
