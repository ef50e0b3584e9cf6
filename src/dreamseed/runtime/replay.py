"""`dreamseed evaluate`'s replay: a synthetic platform in a scratch database, the pipeline run week by
week on it (each job sees only data up to its run date), and its forecasts scored against the truth.

1. The scratch database (default `dreamseed_eval`, on the main database's server) is dropped,
   recreated, migrated and loaded through the production ingestion path.
2. At every Sunday cut-off: mirt-calibrate (when that job exists), compute-daily-kpis,
   detect-inactivity; the week's weekly_kpi rows are the forecasts (S, S_v1, P, P_static, P_trend).
3. The churn model is trained on the cut-offs whose outcomes were known before the held-out weeks
   (the last third), stored in the scratch database and activated if it beats S_v1 there; the
   held-out weeks are then re-run so S is what the pipeline writes with the model.
4. Outcomes: no activity in the 14 days after each cut-off (the data), goal reached by its target
   date (truth/students.csv). Scores, reliability tables and checks: `dreamseed.evaluation`.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from pydantic import SecretStr
from sqlalchemy import Engine

from dreamseed.evaluation.assessment import with_churn_outcomes, with_goal_outcomes
from dreamseed.evaluation.training import TrainedChurnModel, train_and_compare
from dreamseed.ingest.files import csv_records, exam_result_records, numbered_lines
from dreamseed.ingest.records import check_goal, check_question
from dreamseed.runtime import churn_training
from dreamseed.runtime.kpi_parts import kpi_parameters
from dreamseed.runtime.registry import available_jobs, load_job
from dreamseed.runtime.runner import EXIT_OK, Job, execute, monday
from dreamseed.settings import Settings
from dreamseed.storage import evaluation as storage
from dreamseed.storage import ingest, migrate
from dreamseed.storage.database import create_database_engine, resolve_url

CALIBRATION_JOB = "mirt-calibrate"
REPLAY_JOBS = ("compute-daily-kpis", "detect-inactivity")
Progress = Callable[[str, int, int], None]
"""progress(stage, done, total)."""


@dataclass(frozen=True)
class ReplayOutcome:
    """What the replay produced: forecasts with outcomes (one row per user and cut-off), the trained
    model (None when there were too few weeks), the period and notes for the report."""

    forecasts: pd.DataFrame
    trained: TrainedChurnModel | None
    model_version: int | None
    cutoffs: tuple[date, ...]
    start_date: date
    end_date: date
    calibration: bool
    notes: tuple[str, ...]


def sunday_cutoffs(start: date, end: date, first_after_days: int = 6) -> list[date]:
    """Sundays from `first_after_days` days after `start` up to `end`."""
    first = start + timedelta(days=first_after_days)
    first += timedelta(days=(6 - first.weekday()) % 7)
    return [first + timedelta(days=7 * k) for k in range((end - first).days // 7 + 1)] if first <= end else []


def scratch_engine(settings: Settings, name: str) -> Engine:
    """Drop and recreate the scratch database `name` on the main server, migrated; its engine."""
    url = storage.scratch_url(resolve_url(settings), name)
    storage.recreate_database(url)
    engine = create_database_engine(url)
    migrate.upgrade(engine)
    return engine


def drop_scratch(settings: Settings, name: str) -> None:
    storage.drop_database(storage.scratch_url(resolve_url(settings), name))


def load_platform(engine: Engine, data_dir: Path) -> None:
    """questions.csv, goals.csv and exam_results.jsonl through the production ingestion path."""
    ingest.load_questions(engine, csv_records(data_dir / "questions.csv", check_question), "questions.csv")
    ingest.load_goals(engine, csv_records(data_dir / "goals.csv", check_goal), "goals.csv")
    lines = numbered_lines(data_dir / "exam_results.jsonl")
    ingest.load_exam_results(engine, exam_result_records(lines), "exam_results.jsonl")


def replay_settings(settings: Settings, engine: Engine) -> Settings:
    """The settings the replayed jobs run with: the scratch database, no metrics push (logs are captured)."""
    return settings.model_copy(
        update={
            "database_url": SecretStr(engine.url.render_as_string(hide_password=False)),
            "log_level": "INFO",
            "pushgateway_url": None,
            "dry_run": False,
        }
    )


def run_job(job: Job, settings: Settings, engine: Engine, day: date) -> int:
    """`execute` with the job's log lines captured; they are printed (to stderr) only if it fails."""
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        code = execute(job, settings, engine, run_date=day)
    if code != EXIT_OK:
        sys.stderr.write(captured.getvalue())
    return code


def calibration_job() -> Job | None:
    """mirt-calibrate when its module exists and defines its job, else None (θ history stays empty)."""
    if CALIBRATION_JOB not in available_jobs():
        return None
    try:
        return load_job(CALIBRATION_JOB)
    except (ImportError, AttributeError):
        return None


def run_week(settings: Settings, engine: Engine, cutoff: date, calibrate_every: int) -> list[str]:
    """The pipeline as of `cutoff`: calibrations (every `calibrate_every` days of the week ending at the
    cut-off), then the KPI jobs. Returns notes on failed calibrations; raises if a KPI job fails."""
    notes = []
    calibration = calibration_job()
    if calibration is not None:
        for offset in reversed(range(0, 7, calibrate_every)):
            day = cutoff - timedelta(days=offset)
            if run_job(calibration, settings, engine, day) != EXIT_OK:
                notes.append(f"{CALIBRATION_JOB} failed for {day}")
    for name in REPLAY_JOBS:
        code = run_job(load_job(name), settings, engine, cutoff)
        if code != EXIT_OK:
            raise RuntimeError(f"{name} failed for {cutoff} (exit {code})")
    return notes


def week_forecasts(engine: Engine, cutoff: date) -> pd.DataFrame:
    with engine.connect() as connection:
        return storage.read_week_forecasts(connection, monday(cutoff)).assign(cutoff=cutoff)


def replay(
    settings: Settings, engine: Engine, cutoffs: list[date], calibrate_every: int, progress: Progress
) -> tuple[pd.DataFrame, list[str]]:
    """Run the pipeline at each cut-off in order; the forecasts of every cut-off, and notes."""
    frames, notes = [], []
    for done, cutoff in enumerate(cutoffs, start=1):
        notes += run_week(settings, engine, cutoff, calibrate_every)
        frames.append(week_forecasts(engine, cutoff))
        progress("Replaying weeks", done, len(cutoffs))
    return pd.concat(frames, ignore_index=True), notes


def train_in_scratch(
    settings: Settings, engine: Engine, cutoffs: list[date], end: date, progress: Progress
) -> tuple[TrainedChurnModel | None, int | None, str | None]:
    """Train on the scratch history (cut-offs whose outcome is known by `end`), store the model and
    activate it if it beat S_v1 on the held-out weeks. (model, version, why not) ."""
    parameters = kpi_parameters(settings)
    labelled = [c for c in cutoffs if c + timedelta(days=parameters.churn_horizon_days) <= end]
    if not labelled:
        return None, None, "no learned churn model: no cut-off has a known outcome"
    with engine.connect() as connection:
        snapshots = churn_training.churn_snapshots(
            connection,
            labelled,
            parameters,
            lambda c: progress("Churn features", labelled.index(c) + 1, len(labelled)),
        )
    try:
        trained = train_and_compare(snapshots, parameters.churn_horizon_days)
    except ValueError as error:
        return None, None, f"no learned churn model: {error}"
    with engine.begin() as connection:
        version = churn_training.store_churn_model(
            connection, trained, {"source": "dreamseed evaluate"}, True
        )
    return trained, version, None


def evaluate_replay(
    settings: Settings, engine: Engine, data_dir: Path, calibrate_every: int, progress: Progress
) -> ReplayOutcome:
    """Steps 2–4 above on a loaded scratch database (see the module docstring)."""
    meta = json.loads((data_dir / "truth" / "meta.json").read_text("utf-8"))
    start, end = date.fromisoformat(meta["start_date"]), date.fromisoformat(meta["end_date"])
    cutoffs = sunday_cutoffs(start, end)
    if not cutoffs:
        raise ValueError(f"the period {start}..{end} is too short: no Sunday cut-off a week after its start")
    jobs_settings = replay_settings(settings, engine)
    forecasts, notes = replay(jobs_settings, engine, cutoffs, calibrate_every, progress)
    horizon = jobs_settings.metrics_churn_horizon_days
    trained, version, problem = train_in_scratch(jobs_settings, engine, cutoffs, end, progress)
    if problem:
        notes.append(problem)
    if trained is not None and trained.comparison.model_wins:
        forecasts = _rerun_holdout(jobs_settings, engine, forecasts, trained.split.holdout_days, progress)
    with engine.connect() as connection:
        days = storage.read_activity_days(connection, cutoffs[0], end)
    truth = pd.read_csv(data_dir / "truth" / "students.csv", dtype=str, keep_default_na=False)
    scored = with_goal_outcomes(with_churn_outcomes(forecasts, days, end, horizon), truth)
    return ReplayOutcome(
        scored,
        trained,
        version,
        tuple(cutoffs),
        start,
        end,
        calibration_job() is not None,
        tuple(notes),
    )


def _rerun_holdout(
    settings: Settings, engine: Engine, forecasts: pd.DataFrame, holdout: tuple[date, ...], progress: Progress
) -> pd.DataFrame:
    """Re-run the KPI jobs on the held-out weeks with the active model; their forecasts replace the old."""
    fresh = []
    for done, cutoff in enumerate(holdout, start=1):
        for name in REPLAY_JOBS:
            if run_job(load_job(name), settings, engine, cutoff) != EXIT_OK:
                raise RuntimeError(f"{name} failed for {cutoff} with the learned model")
        fresh.append(week_forecasts(engine, cutoff))
        progress("Held-out weeks with the model", done, len(holdout))
    kept = forecasts[~forecasts["cutoff"].isin(holdout)]
    return pd.concat([kept, *fresh], ignore_index=True)
