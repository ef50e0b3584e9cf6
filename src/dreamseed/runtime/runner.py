"""What every batch job shares: its context, one-at-a-time lock, job_runs row, logs, metrics and exit code.

A job module defines a `Job` (name, description, extra options, and `run(context) -> JobResult`).
`execute(job, ...)` wraps it: takes a PostgreSQL advisory lock, records a `job_runs` row (not in a
dry run, which writes nothing at all), logs the summary, pushes metrics, and returns the exit code.
The job itself reads in bulk, computes, and writes its results in one transaction.

Run history tells the truth: a run whose process died keeps its ``running`` row, but its advisory
lock is released with its database session. Each (non-dry) run, once it holds its lock, marks the
job's dead runs ``abandoned`` (`abandon_dead_runs`, also called by ``dreamseed runs``) and pushes
a failed run's metrics for each, so the "job failed" alert sees them.

A database that goes away mid-run gives one FATAL line and exit 1: the failure is recorded in
job_runs when the database still answers, and clean-up errors (the lock release in particular: the
locks went with the session) are not raised over the first error.
"""

from __future__ import annotations

import contextlib
import time
import traceback
import uuid
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from dreamseed.runtime import metrics
from dreamseed.runtime.logs import JobLogger
from dreamseed.runtime.phases import checkpoint
from dreamseed.runtime.results import JobResult
from dreamseed.settings import Settings
from dreamseed.storage import job_runs
from dreamseed.storage.shard import Shard

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run of the same job holds the lock; retry later.


@dataclass(frozen=True)
class JobContext:
    """Everything a job run may use. `run_date` is the job's date (default: today, UTC)."""

    settings: Settings
    engine: Engine
    run_date: date
    dry_run: bool
    log: JobLogger
    run_id: str
    shard: Shard = field(default_factory=Shard.whole)
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def now(self) -> datetime:
        """The wall clock at the edge (jobs pass it into the pure core explicitly)."""
        return datetime.now(UTC)


@dataclass(frozen=True)
class Job:
    """A batch job: its CLI/Kubernetes name, help, default date rule and the function that runs it."""

    name: str
    description: str
    run: Callable[[JobContext], JobResult]
    default_date: Callable[[date], date] = field(default=lambda today: today - timedelta(days=1))
    options: tuple[Any, ...] = ()


class JobLocked(RuntimeError):
    """Another run of the same job is in progress."""


def lock_key(name: str) -> int:
    """A stable 32-bit advisory lock key per job name (or job and shard)."""
    return zlib.crc32(f"dreamseed:{name}".encode())


def run_lock_key(job_name: str, shard_text: str) -> int:
    """The key a run of ``job_name`` on shard ``shard_text`` ("i/N") holds exclusively."""
    return lock_key(job_name if shard_text in ("", "0/1") else f"{job_name}#{shard_text}")


@contextmanager
def job_lock(engine: Engine, job_name: str, shard: Shard | None = None) -> Iterator[Connection]:
    """Hold session-level advisory locks for the whole run (released if the process dies).

    An unsharded run holds the job's lock exclusively. A shard holds it shared, plus its own
    shard's lock exclusively: shards of one run proceed in parallel, a second copy of a shard and an
    unsharded run of the same job wait their turn (they exit with EXIT_LOCKED).
    """
    shard = shard or Shard.whole()
    locks = [("pg_try_advisory_lock", "pg_advisory_unlock", job_name)]
    if not shard.is_whole:
        locks = [
            ("pg_try_advisory_lock_shared", "pg_advisory_unlock_shared", job_name),
            ("pg_try_advisory_lock", "pg_advisory_unlock", f"{job_name}#{shard}"),
        ]
    connection = engine.connect()
    held: list[tuple[str, str]] = []
    try:
        for take, release, name in locks:
            acquired = connection.execute(text(f"SELECT {take}(:k)"), {"k": lock_key(name)}).scalar()
            connection.commit()
            if not acquired:
                raise JobLocked(f"another {name} run is in progress (advisory lock {lock_key(name)} is held)")
            held.append((release, name))
        yield connection
    finally:
        _release(connection, [(release, lock_key(name)) for release, name in reversed(held)])


def _release(connection: Connection, held: list[tuple[str, int]]) -> None:
    """Release the locks; when the session is gone they went with it, so errors are not raised."""
    try:
        for release, key in held:
            connection.execute(text(f"SELECT {release}(:k)"), {"k": key})
            connection.commit()
    except SQLAlchemyError:
        connection.invalidate()
    finally:
        with contextlib.suppress(SQLAlchemyError):
            connection.close()


def one_line(error: BaseException) -> str:
    """``Type: first line of the message`` (SQLAlchemy's messages go on with the SQL and a link)."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def abandon_dead_runs(
    settings: Settings, engine: Engine | Connection, job: str | None = None, log: JobLogger | None = None
) -> list[job_runs.AbandonedRun]:
    """Mark abandoned the running job_runs rows (of ``job``) whose process died, and push a failed
    run's metrics for each (their last-run time is now, when the death was found).

    ``engine`` may be the connection that holds a starting run's own locks (they do not count).
    """
    if isinstance(engine, Connection):
        abandoned = job_runs.abandon_dead_runs(engine, run_lock_key, job)
    else:
        with engine.connect() as connection:
            abandoned = job_runs.abandon_dead_runs(connection, run_lock_key, job)
    for run in abandoned:
        if log is not None:
            log.warn(
                f"run {run.run_id} (started {run.started_at:%Y-%m-%d %H:%M:%S} UTC, shard {run.shard}) "
                f"was still marked running but its process died; marked abandoned"
            )
        duration_ms = int((run.finished_at - run.started_at).total_seconds() * 1000)
        metrics.publish(settings, run.job, Shard.parse(run.shard), None, duration_ms)
    return abandoned


def execute(
    job: Job,
    settings: Settings,
    engine: Engine,
    *,
    run_date: date | None = None,
    dry_run: bool = False,
    shard: Shard | None = None,
    options: Mapping[str, Any] | None = None,
) -> int:
    """Run a job with the shared rules; returns the process exit code."""
    today = datetime.now(UTC).date()
    run_id = f"{job.name}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    log = JobLogger(job.name, run_id, settings.log_format, settings.log_level)
    context = JobContext(
        settings=settings,
        engine=engine,
        run_date=run_date or job.default_date(today),
        dry_run=dry_run or settings.dry_run,
        log=log,
        run_id=run_id,
        shard=shard or Shard.whole(),
        options=dict(options or {}),
    )
    log.date = context.run_date.isoformat()
    params = {
        "date": context.run_date.isoformat(),
        "dry_run": context.dry_run,
        "shard": str(context.shard),
        **{k: _plain(v) for k, v in context.options.items()},
    }
    try:
        with job_lock(engine, job.name, context.shard) as lock_connection:
            if not context.dry_run:
                abandon_dead_runs(settings, lock_connection, job.name, log)
            return _run_locked(job, context, params)
    except JobLocked as error:
        log.error(f"{error}; exiting without doing anything (exit {EXIT_LOCKED})")
        return EXIT_LOCKED
    except SQLAlchemyError as error:
        log.fatal(f"{job.name} failed: the database is unreachable: {one_line(error)}")
        return EXIT_FAILED


def _run_locked(job: Job, context: JobContext, params: dict[str, Any]) -> int:
    started = time.monotonic()
    if not context.dry_run:
        job_runs.start(context.engine, context.run_id, job.name, context.run_date, params)
        checkpoint("start")
    try:
        result = job.run(context)
    except Exception as error:
        duration_ms = int((time.monotonic() - started) * 1000)
        context.log.fatal(f"{job.name} failed: {one_line(error)}")
        context.log.debug(traceback.format_exc())
        quiet = isinstance(error, SQLAlchemyError)  # the FATAL line already says the database is gone
        _record(job, context, "failed", None, duration_ms, one_line(error), quiet=quiet)
        return EXIT_FAILED
    checkpoint("committed")
    duration_ms = int((time.monotonic() - started) * 1000)
    summary = result.summary or f"processed={result.processed}, failed={result.failed}"
    context.log.info(f"Summary: {summary}, duration_ms={duration_ms}")
    status = "succeeded" if result.ok else "failed"
    message = None if result.ok else f"{result.failed} entities failed"
    recorded = _record(job, context, status, result, duration_ms, message)
    return EXIT_OK if result.ok and recorded else EXIT_FAILED


def _record(
    job: Job,
    context: JobContext,
    status: str,
    result: JobResult | None,
    duration_ms: int,
    error: str | None,
    quiet: bool = False,
) -> bool:
    """Finish the job_runs row and push the metrics (not in a dry run). False when the database is
    gone: one ERROR line unless ``quiet`` (the row stays running and is marked abandoned later)."""
    if context.dry_run:
        return True
    processed, failed = (result.processed, result.failed) if result is not None else (0, 0)
    figures = dict(result.metrics) if result is not None else {}
    recorded = True
    try:
        job_runs.finish(
            context.engine, context.run_id, status, processed, failed, duration_ms, error, figures
        )
    except SQLAlchemyError as lost:
        if not quiet:
            context.log.error(f"could not record the run in job_runs: {one_line(lost)}")
        recorded = False
    metrics.publish(context.settings, job.name, context.shard, result if recorded else None, duration_ms)
    return recorded


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def yesterday(today: date) -> date:
    return today - timedelta(days=1)


def monday(day: date) -> date:
    """The ISO week's Monday of a date."""
    return day - timedelta(days=day.weekday())
