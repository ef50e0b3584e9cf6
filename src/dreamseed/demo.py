"""`dreamseed demo`: a synthetic platform, loaded and processed end to end, explained as it goes.

Steps: synthesise (seeded, ending yesterday) → load through the production ingestion path →
replay the daily chain over the period → print row counts, one report to open, and next steps.
The demo refuses to touch a database that holds data it did not create.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from dreamseed.ingest.files import csv_records, exam_result_records, numbered_lines
from dreamseed.ingest.records import check_goal, check_question
from dreamseed.jobs.chain import StepOutcome, days_between, run_chain
from dreamseed.jobs.registry import available_jobs
from dreamseed.settings import Settings
from dreamseed.storage import ingest, meta
from dreamseed.synth import SynthConfig, generate_platform, write_platform

DEMO_KEY = "demo"
SHOWN_TABLES = (
    "exam_results",
    "attempt_fact",
    "ingest_quarantine",
    "question",
    "interest_goal",
    "session",
    "mirt_item_params",
    "mirt_ability_history",
    "student_topic_theta",
    "features_topic_daily",
    "weekly_kpi",
    "ability_estimates",
    "report_artifacts",
    "job_runs",
)


class DemoRefused(RuntimeError):
    """The database holds data that the demo did not create."""


@dataclass(frozen=True)
class DemoPlan:
    students: int = 500
    weeks: int = 8
    seed: int = 2026
    bad_rows: int = 6
    daily_days: int = 21  # the chain runs daily over the last weeks; weekly before that


def chain_days(first: dt.date, last: dt.date, daily_days: int) -> list[dt.date]:
    """Weekly (Sundays) through the early period, then every day of the last `daily_days` days."""
    daily_from = last - dt.timedelta(days=daily_days - 1)
    return [day for day in days_between(first, last) if day >= daily_from or day.weekday() == 6]


def prepare_database(engine: Engine, force: bool) -> None:
    if meta.holds_data(engine) and meta.get(engine, DEMO_KEY) is None and not force:
        raise DemoRefused(
            "this database already holds data that the demo did not create; the demo replaces everything. "
            "Use another DREAMSEED_HOME (or DATABASE_URL), or pass --force to wipe it."
        )
    meta.wipe_data(engine)


@dataclass(frozen=True)
class DemoOutcome:
    """Row counts per table, the week reported on, and a student whose report is worth opening."""

    counts: dict[str, int]
    report_week: dt.date
    showcase_user: str | None


def run_demo(
    settings: Settings,
    engine: Engine,
    plan: DemoPlan,
    today: dt.date,
    say: Callable[[str], None],
    on_step: Callable[[StepOutcome], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    force: bool = False,
) -> DemoOutcome:
    """Everything the demo does; returns the row counts per table and the report worth opening."""
    prepare_database(engine, force)
    end = today - dt.timedelta(days=1)
    config = SynthConfig(
        students=plan.students, weeks=plan.weeks, seed=plan.seed, end_date=end, bad_rows=plan.bad_rows
    )
    out = settings.dreamseed_home / "demo" / "data"
    started = time.monotonic()
    platform = generate_platform(config)
    write_platform(platform, out)
    say(
        f"1. Synthesised {plan.students} students over {plan.weeks} weeks ({config.start_date} to {end}): "
        f"{len(platform.exam_results)} exam sessions, with {plan.bad_rows} deliberately malformed rows "
        f"[{time.monotonic() - started:.1f}s]\n   files and ground truth: {out}"
    )
    meta.put(engine, DEMO_KEY, {"seed": plan.seed, "students": plan.students, "end_date": end.isoformat()})
    _load(engine, out, say)
    days = chain_days(config.start_date, end, plan.daily_days)
    last_sunday = max(day for day in days if day.weekday() == 6)
    say(
        f"3. Running the daily chain on {len(days)} dates (weekly until {days[-plan.daily_days]}, then daily): "
        "mirt-calibrate → aggregate-features-daily → compute-daily-kpis → detect-inactivity, and "
        f"generate-weekly-report for the week ending {last_sunday}"
    )
    started = time.monotonic()
    everything_but_reports = [name for name in available_jobs() if name != "generate-weekly-report"]
    for day in days:
        # Reports only for the last complete week: enough to look at, and much quicker.
        jobs = None if day == last_sunday else everything_but_reports
        outcomes = run_chain(settings, engine, day, jobs, on_step=on_step)
        if progress is not None:
            progress("chain", days.index(day) + 1, len(days))
        failed = [o for o in outcomes if o.exit_code not in (None, 0)]
        if failed:
            raise RuntimeError(f"{failed[0].job} failed on {day}; see the log above")
    say(f"   done [{time.monotonic() - started:.1f}s]")
    week = last_sunday - dt.timedelta(days=6)
    return DemoOutcome(meta.row_counts(engine, SHOWN_TABLES), week, meta.most_active_user(engine, week))


def _load(engine: Engine, out: Path, say: Callable[[str], None]) -> None:
    started = time.monotonic()
    questions = ingest.load_questions(
        engine, csv_records(out / "questions.csv", check_question), "questions.csv"
    )
    goals = ingest.load_goals(engine, csv_records(out / "goals.csv", check_goal), "goals.csv")
    results = ingest.load_exam_results(
        engine, exam_result_records(numbered_lines(out / "exam_results.jsonl")), "exam_results.jsonl"
    )
    say(
        f"2. Loaded {questions.inserted} questions, {goals.inserted} goals and {results.inserted} exam results "
        f"through the ingestion path [{time.monotonic() - started:.1f}s]; {len(results.rejected)} malformed "
        "records were rejected with their line numbers and kept in ingest_quarantine:"
    )
    for rejected in results.rejected:
        say(f"     line {rejected.line_no}: {rejected.reason}")
