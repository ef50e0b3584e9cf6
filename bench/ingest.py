"""Ingestion throughput: `dreamseed ingest exam-results` next to plain COPY, in the same run.

    python -m bench.ingest [--questions 1000000] [--before REV] [--rounds 2]

Generates a synthetic platform with about --questions answered questions, then on one fresh
embedded PostgreSQL server times, round after round: (1) our ingestion of exam_results.jsonl end
to end (parse and check every line, upsert exam_results, COPY the attempt rows, sessions; one
transaction) into a freshly migrated database, (2) with --before, the same with the code and
migrations of git revision REV (its `src/` extracted and run in a subprocess, timed inside it, on
the same server and file), (3) a plain COPY of the same JSON lines into a bare jsonb table and
(4) a plain COPY of the same questions, already flattened, into a bare table without indexes.
Odd rounds run "before" first, even rounds ours first, and every timed load starts right after a
CHECKPOINT, so neither pays for the other's WAL. Prints seconds, questions/s, the loader's Python
CPU seconds and its server backends' CPU seconds (from /proc) per round, and the ratio of ours to
each baseline of the same round.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from bench._support import machine, markdown_table, scratch_database, timed
from bench.ingest_cpu import backend_cpu_seconds
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
from sqlalchemy import text
from sqlalchemy.engine import make_url
from dreamseed.ingest.files import exam_result_records, numbered_lines
from dreamseed.storage import migrate
from dreamseed.storage.database import create_database_engine
from dreamseed.storage.ingest import load_exam_results
sys.path.insert(0, sys.argv[3])
from ingest_cpu import backend_cpu_seconds
engine = create_database_engine(make_url(sys.argv[1]))
migrate.upgrade(engine)
with engine.connect() as connection:
    connection.execute(text("CHECKPOINT"))
path = Path(sys.argv[2])
backend = backend_cpu_seconds(engine)
started, cpu = time.perf_counter(), time.process_time()
summary = load_exam_results(engine, exam_result_records(numbered_lines(path)), path.name)
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
backend = sum(backend_cpu_seconds(engine, backend).values())
print(json.dumps({"seconds": seconds, "python_cpu": cpu, "backend_cpu": backend, "inserted": summary.inserted}))
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


def time_before(source: Path, url: str, path: Path) -> dict[str, float]:
    """Seconds, Python CPU and backend CPU seconds of revision `source`'s loader on `path`."""
    environment = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run(
        [sys.executable, "-c", BEFORE_WORKER, url, str(path), str(Path(__file__).parent)],
        check=True,
        capture_output=True,
        text=True,
        env=environment,
        cwd=source.parent,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {key: float(result[key]) for key in ("seconds", "python_cpu", "backend_cpu")}


def time_ours(url: str, path: Path) -> tuple[dict[str, float], int]:
    """Seconds, Python CPU and backend CPU seconds of this loader on `path`; the attempts loaded."""
    target = create_database_engine(make_url(url))
    try:
        migrate.upgrade(target)
        with target.connect() as connection:
            connection.execute(text("CHECKPOINT"))
        backend = backend_cpu_seconds(target)
        started, cpu = time.perf_counter(), time.process_time()
        load_exam_results(target, exam_result_records(numbered_lines(path)), path.name)
        measured = {"seconds": time.perf_counter() - started, "python_cpu": time.process_time() - cpu}
        measured["backend_cpu"] = sum(backend_cpu_seconds(target, backend).values())
        with target.connect() as connection:
            attempts = int(connection.execute(text("SELECT count(*) FROM attempt_fact")).scalar_one())
        return measured, attempts
    finally:
        target.dispose()


LABELS = {
    "before": "dreamseed ingest, before ({before})",
    "ours": "dreamseed ingest (parse, check, upsert, attempts, sessions)",
    "copy_lines": "plain COPY of the JSON lines into a bare jsonb table",
    "copy_questions": "plain COPY of the flattened questions into a bare table",
}


def one_round(
    engine: Engine,
    round_no: int,
    source: Path | None,
    path: Path,
    data: tuple[list[str], list[tuple[object, ...]]],
) -> tuple[dict[str, dict[str, float]], int]:
    """Every measurement of one round (odd rounds: before first; even rounds: ours first)."""
    lines, flat = data
    measured: dict[str, dict[str, float]] = {}
    attempts = 0
    loaders = ["before", "ours"] if round_no % 2 else ["ours", "before"]
    for name in loaders:
        if name == "before" and source is not None:
            measured["before"] = time_before(source, fresh_database(engine, f"before_{round_no}"), path)
        elif name == "ours":
            measured["ours"], attempts = time_ours(fresh_database(engine, f"after_{round_no}"), path)
    seconds: dict[str, float] = {}
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE bare_lines, bare_questions"))
        connection.execute(text("CHECKPOINT"))
    with timed(seconds, "copy_lines"), engine.begin() as connection:
        copy_rows(connection, "COPY bare_lines (doc) FROM STDIN", ((line,) for line in lines))
    with timed(seconds, "copy_questions"), engine.begin() as connection:
        copy_rows(connection, "COPY bare_questions FROM STDIN", flat)
    measured.update({name: {"seconds": value} for name, value in seconds.items()})
    return measured, attempts


def table_rows(
    round_no: int, measured: dict[str, dict[str, float]], questions: int, before: str
) -> list[list[str]]:
    rate = {name: questions / values["seconds"] for name, values in measured.items()}
    order = ["before", "ours"] if round_no % 2 else ["ours", "before"]
    rows = []
    for name in [*order, "copy_lines", "copy_questions"]:
        if name not in measured:
            continue
        values = measured[name]
        cpu = [f"{values[key]:.2f}" if key in values else "" for key in ("python_cpu", "backend_cpu")]
        rows.append(
            [
                str(round_no),
                LABELS[name].format(before=before),
                f"{values['seconds']:.2f}",
                *cpu,
                f"{rate[name]:,.0f}",
                f"{rate[name] / rate['copy_lines']:.2f}",
                f"{rate[name] / rate['copy_questions']:.2f}",
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=1_000_000)
    parser.add_argument("--before", help="git revision whose loader to time too (e.g. HEAD~1)")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dsbench-ingest-") as directory:  # removed afterwards
        rows, attempts, questions, exam_results = measure(args, Path(directory))
    print(
        f"{questions:,} questions in {exam_results:,} exam results; {attempts:,} attempts materialised; "
        f"machine: {machine()}; load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    headers = [
        "round", "what", "seconds", "Python CPU s", "backend CPU s", "questions/s",
        "÷ COPY of lines (rate)", "÷ COPY of questions",
    ]  # fmt: skip
    print(markdown_table(headers, rows))


def measure(args: argparse.Namespace, work: Path) -> tuple[list[list[str]], int, int, int]:
    """Every round's table rows, the attempts materialised, the questions and exam results."""
    students = max(50, args.questions // QUESTIONS_PER_STUDENT_8_WEEKS)
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
            measured, attempts = one_round(engine, round_no, source, path, (lines, flat))
            rows += table_rows(round_no, measured, questions, args.before or "")
    return rows, attempts, questions, len(lines)


if __name__ == "__main__":
    main()
