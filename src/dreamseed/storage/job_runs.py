"""The `job_runs` table: one row per job run, written in its own transactions.

A run's row says ``running`` from its start until it finishes; the run holds its PostgreSQL advisory
lock all that time (taken before the row is written, released after it is finished). So a
``running`` row whose lock nobody holds belongs to a process that died (SIGKILL, OOM kill, lost
node): `abandon_dead_runs` marks such rows ``abandoned`` with ``finished_at`` and an error text. The
lock is looked up in ``pg_locks`` (no lock is taken, so the check never gets in a starting run's way);
the UPDATE re-checks ``status = 'running'``, so a run that finishes at that moment keeps its status.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, text

ABANDONED_ERROR = "process died (lock released while running)"


def start(engine: Engine, run_id: str, job: str, run_date: date, params: dict[str, Any]) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO job_runs (run_id, job, run_date, params, status) "
                "VALUES (:run_id, :job, :run_date, CAST(:params AS jsonb), 'running')"
            ),
            {"run_id": run_id, "job": job, "run_date": run_date, "params": json.dumps(params)},
        )


def finish(
    engine: Engine,
    run_id: str,
    status: str,
    processed: int,
    failed: int,
    duration_ms: int,
    error: str | None,
    metrics: dict[str, float],
) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE job_runs SET status = :status, finished_at = now(), processed = :processed, "
                "failed = :failed, duration_ms = :duration_ms, error = :error, metrics = CAST(:metrics AS jsonb) "
                "WHERE run_id = :run_id"
            ),
            {
                "run_id": run_id,
                "status": status,
                "processed": processed,
                "failed": failed,
                "duration_ms": duration_ms,
                "error": error,
                "metrics": json.dumps(metrics),
            },
        )


def recent(engine: Engine, limit: int = 20, job: str | None = None) -> list[dict[str, Any]]:
    """The latest runs, newest first."""
    with engine.connect() as connection:
        rows = (
            connection.execute(
                text(
                    "SELECT job, run_date, status, processed, failed, duration_ms, started_at, finished_at, error, run_id "
                    "FROM job_runs WHERE (CAST(:job AS text) IS NULL OR job = :job) "
                    "ORDER BY started_at DESC, id DESC LIMIT :limit"
                ),
                {"job": job, "limit": limit},
            )
            .mappings()
            .all()
        )
    return [dict(row) for row in rows]


def succeeded_dates(engine: Engine, job: str) -> set[date]:
    """Dates for which the job has a successful run (backfills skip them)."""
    with engine.connect() as connection:
        rows = (
            connection.execute(
                text("SELECT DISTINCT run_date FROM job_runs WHERE job = :job AND status = 'succeeded'"),
                {"job": job},
            )
            .scalars()
            .all()
        )
    return set(rows)


@dataclass(frozen=True)
class AbandonedRun:
    """A run marked abandoned: its id, job, shard text ("0/1" when whole) and times."""

    run_id: str
    job: str
    shard: str
    started_at: datetime
    finished_at: datetime


_HELD = """
    EXISTS (
        SELECT 1 FROM pg_locks l
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid = (c.lock_key >> 32)::oid AND l.objid = (c.lock_key & 4294967295)::oid
          AND l.mode = 'ExclusiveLock' AND l.pid <> pg_backend_pid()
    )
"""


def running(connection: Connection, job: str | None = None) -> list[tuple[str, str, str]]:
    """(run_id, job, shard text) of the rows that say running (of ``job`` when given)."""
    rows = connection.execute(
        text(
            "SELECT run_id, job, COALESCE(params->>'shard', '0/1') FROM job_runs "
            "WHERE status = 'running' AND (CAST(:job AS text) IS NULL OR job = :job)"
        ),
        {"job": job},
    )
    return [(str(r), str(j), str(s)) for r, j, s in rows]


def abandon_dead_runs(
    connection: Connection,
    lock_key: Callable[[str, str], int],
    job: str | None = None,
    error: str = ABANDONED_ERROR,
) -> list[AbandonedRun]:
    """Mark abandoned every running row (of ``job``) whose run's exclusive advisory lock is free.

    ``lock_key(job, shard)`` is the key its run held exclusively. Locks held by this connection's own
    session do not count (a starting run checks its predecessors while holding the same lock).
    Commits; returns the rows it marked.
    """
    candidates = running(connection, job)
    if not candidates:
        return []
    rows = connection.execute(
        text(
            f"""
            WITH c AS (
                SELECT * FROM unnest(CAST(:run_ids AS text[]), CAST(:keys AS bigint[])) AS c(run_id, lock_key)
            )
            UPDATE job_runs j SET status = 'abandoned', finished_at = now(), error = :error,
                duration_ms = (extract(epoch FROM now() - j.started_at) * 1000)::int
            FROM c WHERE j.run_id = c.run_id AND j.status = 'running' AND NOT {_HELD}
            RETURNING j.run_id, j.job, COALESCE(j.params->>'shard', '0/1'), j.started_at, j.finished_at
            """
        ),
        {
            "run_ids": [run_id for run_id, _, _ in candidates],
            "keys": [lock_key(name, shard) for _, name, shard in candidates],
            "error": error,
        },
    ).all()
    connection.commit()
    return [AbandonedRun(*row) for row in rows]


def unfinished_run_between(engine: Engine, job: str, first: date, last: date, other_than: str) -> bool:
    """Whether a run of ``job`` dated ``first``..``last`` (not ``other_than``) failed or was abandoned."""
    with engine.connect() as connection:
        return bool(
            connection.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM job_runs WHERE job = :job AND run_id <> :run_id "
                    "AND run_date BETWEEN :first AND :last AND status IN ('failed', 'abandoned'))"
                ),
                {"job": job, "run_id": other_than, "first": first, "last": last},
            ).scalar_one()
        )
