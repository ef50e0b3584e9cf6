"""Ingestion throughput: `dreamseed ingest exam-results` next to plain COPY, in the same run.

    python bench/ingest.py [--questions 1000000]

Generates a synthetic platform with about --questions answered questions, then on a fresh
embedded PostgreSQL server times (1) our ingestion of exam_results.jsonl end to end (parse and
check every line, COPY to staging, upsert exam_results, materialise attempts through the trigger,
sessions), (2) a plain COPY of the same JSON lines into a bare jsonb table, and (3) a plain COPY of
the same questions, already flattened, into a bare table without indexes. Prints questions/s and
the ratio of ours to each baseline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
from pathlib import Path

from bench._support import machine, markdown_table, scratch_database, timed
from sqlalchemy import text

from dreamseed.ingest.files import exam_result_records, numbered_lines
from dreamseed.storage.frames import copy_rows
from dreamseed.storage.ingest import load_exam_results
from dreamseed.synth import SynthConfig, generate_platform, write_platform

QUESTIONS_PER_STUDENT_8_WEEKS = 146  # measured on the default synthetic model


def flattened_questions(path: Path) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for _, line in numbered_lines(path):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        for q in record.get("result_json", {}).get("questions", []):
            rows.append(
                (
                    record.get("session_id"),
                    record.get("user_id"),
                    q.get("question_id"),
                    q.get("topic"),
                    q.get("is_correct", q.get("correct")),
                    q.get("time_spent_sec"),
                    q.get("used_hints"),
                    record.get("updated_at"),
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=1_000_000)
    args = parser.parse_args()
    students = max(50, args.questions // QUESTIONS_PER_STUDENT_8_WEEKS)
    work = Path(tempfile.mkdtemp(prefix="dsbench-ingest-"))
    platform = generate_platform(
        SynthConfig(students=students, weeks=8, seed=7, end_date=dt.date(2026, 11, 1))
    )
    write_platform(platform, work)
    path = work / "exam_results.jsonl"
    lines = [line for _, line in numbered_lines(path)]
    flat = flattened_questions(path)
    seconds: dict[str, float] = {}
    with scratch_database() as engine:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE bare_lines (doc jsonb)"))
            connection.execute(
                text(
                    "CREATE TABLE bare_questions (session_id text, user_id text, question_id text, topic text,"
                    " correct boolean, time_spent_sec double precision, used_hints integer, completed_at timestamptz)"
                )
            )
        with timed(seconds, "ours"):
            summary = load_exam_results(engine, exam_result_records(numbered_lines(path)), path.name)
        with timed(seconds, "copy_lines"), engine.begin() as connection:
            copy_rows(connection, "COPY bare_lines (doc) FROM STDIN", ((line,) for line in lines))
        with timed(seconds, "copy_questions"), engine.begin() as connection:
            copy_rows(connection, "COPY bare_questions FROM STDIN", flat)
        with engine.connect() as connection:
            attempts = connection.execute(text("SELECT count(*) FROM attempt_fact")).scalar_one()
    questions = len(flat)
    rate = {name: questions / value for name, value in seconds.items()}
    rows = [
        [
            "dreamseed ingest (parse, check, upsert, attempts, sessions)",
            f"{seconds['ours']:.2f}",
            f"{rate['ours']:,.0f}",
            "1.00",
        ],
        [
            "plain COPY of the JSON lines into a bare jsonb table",
            f"{seconds['copy_lines']:.2f}",
            f"{rate['copy_lines']:,.0f}",
            f"{rate['ours'] / rate['copy_lines']:.2f}",
        ],
        [
            "plain COPY of the flattened questions into a bare table",
            f"{seconds['copy_questions']:.2f}",
            f"{rate['copy_questions']:,.0f}",
            f"{rate['ours'] / rate['copy_questions']:.2f}",
        ],
    ]
    print(
        f"{questions:,} questions in {len(lines):,} exam results; {attempts:,} attempts materialised; "
        f"{summary.inserted:,} exam results inserted; machine: {machine()}"
    )
    print(markdown_table(["what", "seconds", "questions/s", "ours ÷ this (rate)"], rows))


if __name__ == "__main__":
    main()
