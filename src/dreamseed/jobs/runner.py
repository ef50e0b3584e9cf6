"""What every batch job shares: its context, one-at-a-time lock, job_runs row, logs, metrics and exit code.

A job module defines a `Job` (name, description, extra options, and `run(context) -> JobResult`).
`execute(job, ...)` wraps it: takes a PostgreSQL advisory lock, records a `job_runs` row (not in a
dry run, which writes nothing at all), logs the summary, pushes metrics, and returns the exit code.
The job itself reads in bulk, computes, and writes its results in one transaction.
"""

from __future__ import annotations

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

from dreamseed.jobs.logs import JobLogger
from dreamseed.jobs.shard import Shard
from dreamseed.settings import Settings
from dreamseed.storage import job_runs

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
class JobResult:
    """What a run did: entities processed and failed, and domain figures exported as metrics."""

    processed: int
    failed: int = 0
    metrics: Mapping[str, float] = field(default_factory=dict)
    summary: str | None = None  # the job's own summary fields, e.g. "processed_users=3, week=…"

    @property
    def ok(self) -> bool:
        return self.failed == 0


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
        for release, name in reversed(held):
            connection.execute(text(f"SELECT {release}(:k)"), {"k": lock_key(name)})
            connection.commit()
        connection.close()


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
        with job_lock(engine, job.name, context.shard):
            return _run_locked(job, context, params)
    except JobLocked as error:
        log.error(f"{error}; exiting without doing anything (exit {EXIT_LOCKED})")
        return EXIT_LOCKED


def _run_locked(job: Job, context: JobContext, params: dict[str, Any]) -> int:
    from dreamseed.jobs import metrics

    started = time.monotonic()
    if not context.dry_run:
        job_runs.start(context.engine, context.run_id, job.name, context.run_date, params)
    try:
        result = job.run(context)
    except Exception as error:
        duration_ms = int((time.monotonic() - started) * 1000)
        context.log.fatal(f"{job.name} failed: {error}")
        context.log.debug(traceback.format_exc())
        if not context.dry_run:
            job_runs.finish(
                context.engine,
                context.run_id,
                "failed",
                0,
                0,
                duration_ms,
                f"{type(error).__name__}: {error}",
                {},
            )
            metrics.publish(context.settings, job.name, context.shard, None, duration_ms)
        return EXIT_FAILED
    duration_ms = int((time.monotonic() - started) * 1000)
    summary = result.summary or f"processed={result.processed}, failed={result.failed}"
    context.log.info(f"Summary: {summary}, duration_ms={duration_ms}")
    status = "succeeded" if result.ok else "failed"
    if not context.dry_run:
        job_runs.finish(
            context.engine,
            context.run_id,
            status,
            result.processed,
            result.failed,
            duration_ms,
            None if result.ok else f"{result.failed} entities failed",
            dict(result.metrics),
        )
        metrics.publish(context.settings, job.name, context.shard, result, duration_ms)
    return EXIT_OK if result.ok else EXIT_FAILED


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def yesterday(today: date) -> date:
    return today - timedelta(days=1)


def monday(day: date) -> date:
    """The ISO week's Monday of a date."""
    return day - timedelta(days=day.weekday())
