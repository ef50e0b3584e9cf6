"""The `job_runs` table: one row per job run, written in its own transactions."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import Engine, text


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
