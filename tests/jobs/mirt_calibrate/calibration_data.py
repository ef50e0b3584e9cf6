"""A small synthetic platform with known truth, loaded through ingestion, for the calibration tests.

Loading takes a few seconds, so a test module loads it once into a template database and every
test gets a clone (``CREATE DATABASE … TEMPLATE``), as the shared conftest does for the empty schema.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import psycopg
from sqlalchemy import Engine, make_url

from dreamseed.ingest.files import csv_records, exam_result_records, numbered_lines
from dreamseed.ingest.records import check_question
from dreamseed.storage import ingest
from dreamseed.storage.database import create_database_engine, normalise_url
from dreamseed.synth import SynthConfig, SynthPlatform, generate_platform, write_platform

END = dt.date(2026, 11, 20)
_counter = itertools.count()
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


def _url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@contextmanager
def loaded_template(admin_url: str, template: str, out: Path) -> Iterator[str]:
    """A database cloned from the migrated ``template`` with the platform loaded; yields its name."""
    name = f"dreamseed_calibration_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    engine = create_database_engine(normalise_url(_url(admin_url, name)))
    try:
        load_platform(engine, out)
    finally:
        engine.dispose()
    try:
        yield name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def clone(admin_url: str, template: str) -> Iterator[str]:
    """A fresh copy of ``template`` for one test; yields its URL."""
    name = f"dreamseed_calibration_test_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _url(admin_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
