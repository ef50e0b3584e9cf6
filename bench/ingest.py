"""Ingestion throughput: `dreamseed ingest exam-results` next to plain COPY, in the same run.

    python -m bench.ingest [--questions 1000000] [--before REV] [--rounds 2]

Generates a synthetic platform with about --questions answered questions, then on one fresh
embedded PostgreSQL server times, round after round: (1) our ingestion of exam_results.jsonl end
to end (parse and check every line, upsert exam_results, COPY the attempt rows, sessions; one
transaction) into a freshly migrated database, (2) with --before, the same with the code and
migrations of git revision REV (its `src/` extracted and run in a subprocess, timed inside it, on
the same server and file), (3) a plain COPY of the same JSON lines into a bare jsonb table and
(4) a plain COPY of the same questions, already flattened, into a bare table without indexes.
Prints questions/s per round and the ratio of ours to each baseline of the same round.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
from bench._support import machine, markdown_table, scratch_database, timed
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from dreamseed.ingest.files import exam_result_records, numbered_lines
from dreamseed.storage import migrate
from dreamseed.storage.database import create_database_engine
from dreamseed.storage.frames import copy_rows
from dreamseed.storage.ingest import load_exam_results
from dreamseed.synth import SynthConfig, generate_platform, write_platform

QUESTIONS_PER_STUDENT_8_WEEKS = 146  # measured on the default synthetic model

# Run by the --before subprocess with the old revision's src/ first on sys.path: migrate a fresh
# database with that revision's migrations and time its loader on the file; prints the seconds.
BEFORE_WORKER = """
import json, sys, time
from pathlib import Path
from sqlalchemy.engine import make_url
from dreamseed.ingest.files import exam_result_records, numbered_lines
from dreamseed.storage import migrate
from dreamseed.storage.database import create_database_engine
from dreamseed.storage.ingest import load_exam_results
engine = create_database_engine(make_url(sys.argv[1]))
migrate.upgrade(engine)
path = Path(sys.argv[2])
started = time.perf_counter()
summary = load_exam_results(engine, exam_result_records(numbered_lines(path)), path.name)
print(json.dumps({"seconds": time.perf_counter() - started, "inserted": summary.inserted}))
"""


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


def fresh_database(engine: Engine, name: str) -> str:
    """The URL of a new empty database `name` on the server of `engine`."""
    url = engine.url.set(database=name)
    admin = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.render_as_string(hide_password=False)


def extract_source(revision: str, into: Path) -> Path:
    """`src/` of git revision `revision`, written under `into`."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", revision, "src"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def time_before(source: Path, url: str, path: Path) -> float:
    environment = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run(
        [sys.executable, "-c", BEFORE_WORKER, url, str(path)],
        check=True,
        capture_output=True,
        text=True,
        env=environment,
        cwd=source.parent,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def time_ours(url: str, path: Path, seconds: dict[str, float]) -> int:
    target = create_database_engine(make_url(url))
    try:
        migrate.upgrade(target)
        with timed(seconds, "ours"):
            load_exam_results(target, exam_result_records(numbered_lines(path)), path.name)
        with target.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM attempt_fact")).scalar_one())
    finally:
        target.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=1_000_000)
    parser.add_argument("--before", help="git revision whose loader to time too (e.g. HEAD~1)")
    parser.add_argument("--rounds", type=int, default=1)
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
    questions = len(flat)
    source = extract_source(args.before, work / "before") if args.before else None
    rows: list[list[str]] = []
    attempts = 0
    with scratch_database() as engine:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE bare_lines (doc jsonb)"))
            connection.execute(
                text(
                    "CREATE TABLE bare_questions (session_id text, user_id text, question_id text, topic text,"
                    " correct boolean, time_spent_sec double precision, used_hints integer, completed_at timestamptz)"
                )
            )
        for round_no in range(1, args.rounds + 1):
            seconds: dict[str, float] = {}
            if source is not None:
                seconds["before"] = time_before(source, fresh_database(engine, f"before_{round_no}"), path)
            attempts = time_ours(fresh_database(engine, f"after_{round_no}"), path, seconds)
            with engine.begin() as connection:
                connection.execute(text("TRUNCATE bare_lines, bare_questions"))
                connection.execute(text("CHECKPOINT"))
            with timed(seconds, "copy_lines"), engine.begin() as connection:
                copy_rows(connection, "COPY bare_lines (doc) FROM STDIN", ((line,) for line in lines))
            with timed(seconds, "copy_questions"), engine.begin() as connection:
                copy_rows(connection, "COPY bare_questions FROM STDIN", flat)
            rate = {name: questions / value for name, value in seconds.items()}
            labels = {
                "before": f"dreamseed ingest, before ({args.before})",
                "ours": "dreamseed ingest (parse, check, upsert, attempts, sessions)",
                "copy_lines": "plain COPY of the JSON lines into a bare jsonb table",
                "copy_questions": "plain COPY of the flattened questions into a bare table",
            }
            for name, label in labels.items():
                if name not in seconds:
                    continue
                rows.append(
                    [
                        str(round_no),
                        label,
                        f"{seconds[name]:.2f}",
                        f"{rate[name]:,.0f}",
                        f"{rate[name] / rate['copy_lines']:.2f}",
                        f"{rate[name] / rate['copy_questions']:.2f}",
                    ]
                )
    print(
        f"{questions:,} questions in {len(lines):,} exam results; {attempts:,} attempts materialised; "
        f"machine: {machine()}; load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    headers = ["round", "what", "seconds", "questions/s", "÷ COPY of lines (rate)", "÷ COPY of questions"]
    print(markdown_table(headers, rows))


if __name__ == "__main__":
    main()
