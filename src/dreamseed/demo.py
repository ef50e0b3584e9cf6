"""`dreamseed demo`: a synthetic platform, loaded and processed end to end, explained as it goes.

Steps: synthesise (seeded, ending yesterday) → load through the production ingestion path →
replay the daily chain over the period → print row counts, one report to open, and next steps.
The demo refuses to touch a database that holds data it did not create.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from dreamseed.ingest.files import csv_records, exam_result_records, numbered_lines
from dreamseed.ingest.records import check_goal, check_question
from dreamseed.runtime.chain import StepOutcome, days_between, run_chain
from dreamseed.runtime.registry import available_jobs
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


def demo_console_login(home: Path) -> tuple[Path, str, str]:
    """An admin console user for the demo: (the CONSOLE_USERS file, name, password). The file holds
    only the scrypt hash; the password is printed once, for the person who ran the demo."""
    from dreamseed.console.users import ConsoleUser, hash_password, users_json

    name, password = "demo", secrets.token_urlsafe(9)
    path = home / "demo" / "console-users.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(users_json({name: ConsoleUser(name, "admin", frozenset(), hash_password(password))}))
    path.chmod(0o600)
    return path, name, password


class DemoRefused(RuntimeError):
    """The database holds data that the demo did not create."""


@dataclass(frozen=True)
class DemoPlan:
    students: int = 500
    weeks: int = 8
    seed: int = 2026
    bad_rows: int = 6
    daily_days: int = 21  # the chain runs daily over the last weeks; weekly before that
    stream: bool = False  # the exam results through a local NATS JetStream broker, not the file loader


def chain_days(first: dt.date, last: dt.date, daily_days: int) -> list[dt.date]:
    """Weekly (Sundays) through the early period, then every day of the last `daily_days` days."""
    daily_from = last - dt.timedelta(days=daily_days - 1)
    return [day for day in days_between(first, last) if day >= daily_from or day.weekday() == 6]


def foreign_data(engine: Engine) -> str | None:
    """Why the database holds rows the demo did not load (None when it holds none).

    The demo records a fingerprint of the user tables (row counts and change tokens) once it has
    loaded its platform; any difference since means someone else loaded, changed or deleted rows.
    """
    now = meta.user_data_fingerprint(engine)
    if not any(count for count, _token in now.values()):
        return None
    marker = meta.get(engine, DEMO_KEY)
    if marker is None:
        held = ", ".join(f"{table} {count:,} rows" for table, (count, _token) in now.items() if count)
        return f"this database holds data that the demo did not create ({held})"
    loaded = marker.get("fingerprint")
    if loaded is None:  # a demo stopped before it finished loading: only its own rows are there
        return None
    changed = [
        f"{table} {loaded.get(table, [0])[0]:,} rows then, {count:,} now"
        for table, (count, token) in now.items()
        if [count, token] != loaded.get(table, [0, None])
    ]
    if not changed:
        return None
    return f"this database changed after the demo loaded it ({'; '.join(changed)})"


def prepare_database(engine: Engine, reset: bool, say: Callable[[str], None]) -> None:
    """Empty the database for the demo; refuse (deleting nothing) when it holds rows the demo did not
    load, unless ``reset`` asks for them to be deleted."""
    reason = foreign_data(engine)
    if reason is not None and not reset:
        raise DemoRefused(
            f"{reason}. The demo empties the database before it loads its own platform, so it stopped "
            "and deleted nothing. To keep these rows, run the demo elsewhere: `dreamseed demo --home DIR` "
            "(a new embedded database under DIR; or another DATABASE_URL). To delete every row listed "
            "and run the demo here, use `dreamseed demo --reset`."
        )
    doomed = meta.nonempty_tables(engine)
    if reset and doomed:
        say("Deleting, as --reset asked: " + ", ".join(f"{t} {n:,} rows" for t, n in doomed.items()))
    meta.wipe_data(engine)


@dataclass(frozen=True)
class DemoOutcome:
    """Row counts per table, the week reported on, and a student whose report is worth opening."""

    counts: dict[str, int]
    report_week: dt.date
    showcase_user: str | None
    stage_seconds: dict[str, float]


def run_demo(
    settings: Settings,
    engine: Engine,
    plan: DemoPlan,
    today: dt.date,
    say: Callable[[str], None],
    on_step: Callable[[StepOutcome], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    reset: bool = False,
) -> DemoOutcome:
    """Everything the demo does; returns the row counts per table and the report worth opening."""
    prepare_database(engine, reset, say)
    seconds: dict[str, float] = {}
    end = today - dt.timedelta(days=1)
    config = SynthConfig(
        students=plan.students, weeks=plan.weeks, seed=plan.seed, end_date=end, bad_rows=plan.bad_rows
    )
    out = settings.dreamseed_home / "demo" / "data"
    started = time.monotonic()
    platform = generate_platform(config)
    write_platform(platform, out)
    seconds["synthesise"] = time.monotonic() - started
    say(
        f"1. Synthesised {plan.students} students over {plan.weeks} weeks ({config.start_date} to {end}): "
        f"{len(platform.exam_results)} exam sessions, with {plan.bad_rows} deliberately malformed rows "
        f"[{seconds['synthesise']:.1f}s]\n   files and ground truth: {out}"
    )
    marker = {"seed": plan.seed, "students": plan.students, "end_date": end.isoformat()}
    meta.put(engine, DEMO_KEY, marker)
    started = time.monotonic()
    _load(settings, engine, out, say, started, plan.stream)
    seconds["load"] = time.monotonic() - started
    meta.put(engine, DEMO_KEY, {**marker, "fingerprint": meta.user_data_fingerprint(engine)})
    days = chain_days(config.start_date, end, plan.daily_days)
    last_sunday = max(day for day in days if day.weekday() == 6)
    week = last_sunday - dt.timedelta(days=6)
    say(
        f"3. Running the daily chain on {len(days)} dates (weekly until {days[-plan.daily_days]}, then daily): "
        f"{' → '.join(available_jobs())}, with generate-weekly-report only for the week {week} (Monday) to "
        f"{last_sunday} (Sunday)"
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
    seconds["daily chain"] = time.monotonic() - started
    say(f"   done [{seconds['daily chain']:.1f}s]")
    return DemoOutcome(
        meta.row_counts(engine, SHOWN_TABLES), week, meta.most_active_user(engine, week), seconds
    )


def _load(
    settings: Settings, engine: Engine, out: Path, say: Callable[[str], None], started: float, stream: bool
) -> None:
    questions = ingest.load_questions(
        engine, csv_records(out / "questions.csv", check_question), "questions.csv"
    )
    goals = ingest.load_goals(engine, csv_records(out / "goals.csv", check_goal), "goals.csv")
    if stream:
        from dreamseed.stream.local import load_through_stream

        store = settings.dreamseed_home / "demo" / "nats"
        through = load_through_stream(settings, engine, out / "exam_results.jsonl", store)
        results = through.summary
        path = (
            f"NATS JetStream ({through.published.sent} events published to a local nats-server, "
            f"consumed in {through.batches} batches by the stream worker)"
        )
        position = "stream sequence numbers"
    else:
        results = ingest.load_exam_results(
            engine, exam_result_records(numbered_lines(out / "exam_results.jsonl")), "exam_results.jsonl"
        )
        path, position = "the ingestion path", "line numbers"
    say(
        f"2. Loaded {questions.inserted} questions, {goals.inserted} goals and {results.inserted} exam results "
        f"through {path} [{time.monotonic() - started:.1f}s]; {len(results.rejected)} malformed "
        f"records were rejected with their {position} and kept in ingest_quarantine:"
    )
    label = "event" if stream else "line"
    for rejected in results.rejected:
        say(f"     {label} {rejected.line_no}: {rejected.reason}")
