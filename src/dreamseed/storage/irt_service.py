"""SQL of the HTTP service: the item bank, one user's recent answers, the online θ write, health and
the job status gauges. Every call is one statement on an index (or on a small table).

The online θ update's hot path has async twins on a plain psycopg connection
(``read_recent_answers_packed``, ``record_online_theta_async``): the same statements, prepared on
the connection, the answers packed into two bytea values (8-byte big-endian ids, 1-byte
booleans) that become numpy arrays without a Python object per answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import psycopg
from sqlalchemy import Connection, text

from dreamseed.storage.frames import read_frame


def read_item_bank(connection: Connection, version: str, model: str | None = None) -> pd.DataFrame:
    """The latest parameters of every item of ``version`` (and ``model`` when given).

    Columns: item_id (text), model, a, b, c (float; a defaults to 1, c to 0)."""
    return read_frame(
        connection,
        """
        SELECT item_id, model, COALESCE((params->>'a')::float8, 1) AS a, (params->>'b')::float8 AS b,
               COALESCE((params->>'c')::float8, 0) AS c
        FROM mirt_item_params
        WHERE version = :version AND (CAST(:model AS text) IS NULL OR model = :model)
              AND params->>'b' IS NOT NULL
        ORDER BY item_id
        """,
        {"version": version, "model": model},
    )


_META_NUMBER = (
    "CASE WHEN jsonb_typeof(meta #> '{{irt,{key}}}') = 'number' THEN (meta #>> '{{irt,{key}}}')::float8 END"
)


def read_question_bank(connection: Connection, version: str, include_unversioned: bool) -> pd.DataFrame:
    """Items with a numeric ``b`` in question.meta.irt whose ``version`` is ``version`` (or unset, when
    ``include_unversioned``): the bank while no calibration of ``version`` has run.

    Columns: item_id (int), model, a, b, c (float; a defaults to 1, c to 0)."""
    return read_frame(
        connection,
        f"""
        SELECT id AS item_id, meta #>> '{{irt,model}}' AS model,
               COALESCE({_META_NUMBER.format(key="a")}, 1) AS a, {_META_NUMBER.format(key="b")} AS b,
               COALESCE({_META_NUMBER.format(key="c")}, 0) AS c
        FROM question
        WHERE meta ? 'irt' AND jsonb_typeof(meta #> '{{irt,b}}') = 'number'
              AND (meta #>> '{{irt,version}}' = :version
                   OR (CAST(:unversioned AS boolean) AND meta #>> '{{irt,version}}' IS NULL))
        ORDER BY id
        """,
        {"version": version, "unversioned": include_unversioned},
    )


def version_is_known(connection: Connection, version: str) -> bool:
    """Whether any item parameters of ``version`` exist (mirt_item_params or question.meta.irt)."""
    return bool(
        connection.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM mirt_item_params WHERE version = :version) "
                "OR EXISTS (SELECT 1 FROM question WHERE meta #>> '{irt,version}' = :version)"
            ),
            {"version": version},
        ).scalar_one()
    )


def read_item_bank_stamp(connection: Connection, version: str) -> tuple[Any, ...]:
    """What changes whenever mirt_item_params of ``version`` changes: row count, latest fitted_at and
    the newest row version (xmin), e.g. when a date is re-run with the same fitted_at."""
    row = connection.execute(
        text(
            "SELECT count(*), max(fitted_at), max(xmin::text::bigint) FROM mirt_item_params "
            "WHERE version = :version"
        ),
        {"version": version},
    ).one()
    return tuple(row)


def read_population(connection: Connection, version: str) -> tuple[float, float] | None:
    """Mean and SD of θ estimated by the latest calibration of ``version`` (None when unknown)."""
    row = connection.execute(
        text(
            """
            SELECT (metrics #>> '{population,mean}')::float8, (metrics #>> '{population,sd}')::float8
            FROM mirt_fit_meta WHERE model_spec->>'version' = :version
            ORDER BY fitted_at DESC, run_id DESC LIMIT 1
            """
        ),
        {"version": version},
    ).first()
    if row is None or row[0] is None or row[1] is None or row[1] <= 0:
        return None
    return float(row[0]), float(row[1])


def read_recent_answers(
    connection: Connection, user_id: str, since: datetime, limit: int
) -> tuple[list[int], list[bool]]:
    """The user's most recent ``limit`` answers completed at or after ``since``: item ids and
    correctness (one range scan of attempt_fact's (user_id, completed_at) index; returned as two
    arrays in one row, several times cheaper than a thousand rows)."""
    row = connection.execute(
        text(
            """
            SELECT array_agg(item_id), array_agg(correct) FROM (
                SELECT item_id, correct FROM attempt_fact
                WHERE user_id = :user_id AND completed_at >= :since
                ORDER BY completed_at DESC LIMIT :limit
            ) recent
            """
        ),
        {"user_id": user_id, "since": since, "limit": limit},
    ).one()
    return list(row[0] or []), list(row[1] or [])


def record_online_theta(
    connection: Connection,
    *,
    user_id: str,
    run_id: str,
    theta: float,
    se: float,
    model: str,
    version: str,
    fitted_at: datetime,
) -> None:
    """Append (or, for the same run_id, replace) a θ history row with source 'online' and move
    mirt_ability forward unless it already holds something newer: one atomic statement, so it can
    run on an autocommit connection (one round trip).

    It commits without waiting for the WAL flush (``synchronous_commit`` off for this transaction
    only): a database crash may lose the last few hundred milliseconds of online updates, never
    corrupt them, and θ is recomputed from the attempts at the next session or calibration. That
    halves the call's latency.
    """
    connection.exec_driver_sql(
        RECORD_ONLINE_THETA,
        {
            "user_id": user_id,
            "run_id": run_id,
            "theta": theta,
            "se": se,
            "model": model,
            "version": version,
            "fitted_at": fitted_at,
        },
    )


RECORD_ONLINE_THETA = """
    WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true) AS setting),
    history AS (
        INSERT INTO mirt_ability_history (user_id, run_id, theta, se, model, version, source, fitted_at)
        VALUES (%(user_id)s, %(run_id)s, %(theta)s, %(se)s, %(model)s, %(version)s, 'online', %(fitted_at)s)
        ON CONFLICT (user_id, run_id) DO UPDATE SET theta = EXCLUDED.theta, se = EXCLUDED.se,
            model = EXCLUDED.model, version = EXCLUDED.version, source = EXCLUDED.source,
            fitted_at = EXCLUDED.fitted_at
    )
    INSERT INTO mirt_ability (user_id, version, theta, se, model, run_id, fitted_at)
    SELECT %(user_id)s, %(version)s, %(theta)s, %(se)s, %(model)s, %(run_id)s, %(fitted_at)s FROM async_commit
    ON CONFLICT (user_id, version) DO UPDATE SET theta = EXCLUDED.theta, se = EXCLUDED.se,
        model = EXCLUDED.model, run_id = EXCLUDED.run_id, fitted_at = EXCLUDED.fitted_at
    WHERE mirt_ability.fitted_at <= EXCLUDED.fitted_at
"""
RECENT_ANSWERS_PACKED = """
    SELECT string_agg(int8send(item_id), ''), string_agg(boolsend(correct), '') FROM (
        SELECT item_id, correct FROM attempt_fact
        WHERE user_id = %(user_id)s AND completed_at >= %(since)s
        ORDER BY completed_at DESC LIMIT %(limit)s
    ) recent
"""


async def read_recent_answers_packed(
    connection: psycopg.AsyncConnection[Any], user_id: str, since: datetime, limit: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """As ``read_recent_answers``: item ids (int64, shape (n,)) and correctness (bool, shape (n,)) of
    the user's most recent ``limit`` answers at or after ``since``; one prepared statement."""
    cursor = await connection.execute(
        RECENT_ANSWERS_PACKED, {"user_id": user_id, "since": since, "limit": limit}, prepare=True
    )
    row = await cursor.fetchone()
    items, correct = (b"", b"") if row is None else (row[0] or b"", row[1] or b"")
    return (
        np.frombuffer(items, dtype=">i8").astype(np.int64),
        np.frombuffer(correct, dtype=np.uint8).astype(np.bool_),
    )


async def record_online_theta_async(connection: psycopg.AsyncConnection[Any], **values: Any) -> None:
    """``record_online_theta`` on an autocommit psycopg connection (one prepared statement, one
    round trip); ``values`` as its keyword arguments."""
    await connection.execute(RECORD_ONLINE_THETA, values, prepare=True)


def ping(connection: Connection) -> None:
    connection.execute(text("SELECT 1")).one()


def read_job_status(connection: Connection) -> pd.DataFrame:
    """Per job: the latest finished run (status, end time, duration, processed, failed), the end time
    of its latest success and that success's domain metrics (jsonb)."""
    return read_frame(
        connection,
        """
        WITH latest AS (
            SELECT DISTINCT ON (job) job, status, extract(epoch FROM finished_at) AS finished_epoch,
                   duration_ms, processed, failed
            FROM job_runs WHERE finished_at IS NOT NULL
            ORDER BY job, started_at DESC, id DESC
        ), success AS (
            SELECT DISTINCT ON (job) job, extract(epoch FROM finished_at) AS success_epoch, metrics
            FROM job_runs WHERE status = 'succeeded'
            ORDER BY job, started_at DESC, id DESC
        )
        SELECT l.*, s.success_epoch, s.metrics FROM latest l LEFT JOIN success s USING (job)
        ORDER BY l.job
        """,
    )
