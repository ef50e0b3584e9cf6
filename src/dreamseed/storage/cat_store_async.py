"""The adaptive endpoints' hot path on a plain psycopg connection (``dreamseed.api.cat_fast_paths``).

The same reads and writes as ``cat_store``, prepared on the connection (autocommit) and fewer of
them: next-item reads everything it needs before choosing — the session's rows, its start, the
student's stored θ, whether the platform knows the user and the items answered in the exclusion
window — in **one** statement (``read_next_item_state``), then inserts the served row (the
statement of ``cat_store.record_served``); answer reads the session in one statement and fills the
answer with ``cat_store.record_answer``'s. The writes commit without waiting for the WAL flush, as
there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg


@dataclass(frozen=True)
class SessionRows:
    """A session's rows in serving order: item ids, answers (None while unanswered), the union of
    the items whose Sympson–Hetter lottery failed, and the start and prior mean of its first row
    (None for a session with no rows)."""

    item_ids: tuple[str, ...]
    correct: tuple[bool | None, ...]
    rejected: frozenset[str]
    start: str | None
    prior_mean: float | None


@dataclass(frozen=True)
class NextItemState:
    """What next-item reads before choosing: the session, the stored θ of the version (None when
    there is none), whether the platform knows the user (True when the session has rows or a θ is
    stored) and the item ids answered in the window (empty when no window was asked for)."""

    session: SessionRows
    stored_theta: float | None
    known: bool
    recent: tuple[str, ...]


NEXT_ITEM_STATE = """
    WITH s AS MATERIALIZED (
        SELECT id, item_id, correct, rejected, start, prior_mean FROM cat_events
        WHERE user_id = %(user_id)s AND session_id = %(session_id)s
    ), first AS (
        SELECT start, prior_mean FROM s ORDER BY id LIMIT 1
    ), stored AS (
        SELECT theta FROM mirt_ability WHERE user_id = %(user_id)s AND version = %(version)s
    )
    SELECT (SELECT array_agg(item_id ORDER BY id) FROM s),
           (SELECT array_agg(correct ORDER BY id) FROM s),
           (SELECT array_agg(DISTINCT r) FROM s, unnest(s.rejected) AS r),
           (SELECT start FROM first), (SELECT prior_mean FROM first),
           (SELECT theta FROM stored),
           CASE WHEN EXISTS (SELECT 1 FROM s) OR EXISTS (SELECT 1 FROM stored) THEN true ELSE
               EXISTS (SELECT 1 FROM mirt_ability WHERE user_id = %(user_id)s)
               OR EXISTS (SELECT 1 FROM attempt_fact WHERE user_id = %(user_id)s)
               OR EXISTS (SELECT 1 FROM exam_results WHERE user_id = %(user_id)s)
               OR EXISTS (SELECT 1 FROM session WHERE user_id = %(user_id)s)
               OR EXISTS (SELECT 1 FROM cat_events WHERE user_id = %(user_id)s)
           END,
           CASE WHEN CAST(%(since)s AS timestamptz) IS NULL THEN NULL ELSE (
               SELECT array_agg(DISTINCT item_id) FROM (
                   SELECT item_id::text AS item_id FROM attempt_fact
                   WHERE user_id = %(user_id)s AND completed_at >= CAST(%(since)s AS timestamptz)
                   UNION ALL
                   SELECT item_id FROM cat_events
                   WHERE user_id = %(user_id)s AND answered_at >= CAST(%(since)s AS timestamptz)
                         AND session_id <> %(session_id)s
               ) answered
           ) END
"""
SESSION_ROWS = """
    SELECT array_agg(item_id ORDER BY id), array_agg(correct ORDER BY id),
           (array_agg(start ORDER BY id))[1], (array_agg(prior_mean ORDER BY id))[1]
    FROM cat_events WHERE user_id = %(user_id)s AND session_id = %(session_id)s
"""
RECORD_SERVED = """
    WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true) AS setting)
    INSERT INTO cat_events (user_id, session_id, item_id, position, topic_id, policy, reason,
                            theta_before, se_before, rejected, version, served_at, start, prior_mean)
    SELECT %(user_id)s, %(session_id)s, %(item_id)s, %(position)s, %(topic_id)s, %(policy)s, %(reason)s,
           %(theta_before)s, %(se_before)s, CAST(%(rejected)s AS text[]), %(version)s, %(served_at)s,
           %(start)s, %(prior_mean)s
    FROM async_commit
    ON CONFLICT (user_id, session_id, item_id) DO NOTHING
    RETURNING id
"""
RECORD_ANSWER = """
    WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true) AS setting)
    UPDATE cat_events SET correct = %(correct)s, answered_at = %(answered_at)s,
                          theta_after = %(theta_after)s, se_after = %(se_after)s
    FROM async_commit
    WHERE user_id = %(user_id)s AND session_id = %(session_id)s AND item_id = %(item_id)s
          AND correct IS NULL
    RETURNING cat_events.id
"""


def _session(item_ids: Any, correct: Any, rejected: Any, start: Any, prior_mean: Any) -> SessionRows:
    return SessionRows(
        tuple(item_ids or ()),
        tuple(correct or ()),
        frozenset(rejected or ()),
        start,
        None if prior_mean is None else float(prior_mean),
    )


async def read_next_item_state(
    connection: psycopg.AsyncConnection[Any],
    user_id: str,
    session_id: str,
    version: str,
    since: datetime | None,
) -> NextItemState:
    """The session, stored θ, known-user flag and the items answered at or after ``since`` in exams
    and other adaptive sessions (not read when None): one prepared statement, one row."""
    values = {"user_id": user_id, "session_id": session_id, "version": version, "since": since}
    cursor = await connection.execute(NEXT_ITEM_STATE, values, prepare=True)
    row = await cursor.fetchone()
    assert row is not None  # an aggregate-only SELECT always answers one row
    stored = None if row[5] is None else float(row[5])
    return NextItemState(_session(*row[:5]), stored, bool(row[6]), tuple(row[7] or ()))


async def read_session_rows(
    connection: psycopg.AsyncConnection[Any], user_id: str, session_id: str
) -> SessionRows:
    """The session's rows (``cat_store.read_session`` as arrays): one prepared statement."""
    cursor = await connection.execute(
        SESSION_ROWS, {"user_id": user_id, "session_id": session_id}, prepare=True
    )
    row = await cursor.fetchone()
    assert row is not None
    return _session(row[0], row[1], (), row[2], row[3])


async def record_served(connection: psycopg.AsyncConnection[Any], event: dict[str, Any]) -> bool:
    """``cat_store.record_served``: insert the served row; False when the session already has it."""
    cursor = await connection.execute(RECORD_SERVED, event, prepare=True)
    return await cursor.fetchone() is not None


async def record_answer(connection: psycopg.AsyncConnection[Any], values: dict[str, Any]) -> bool:
    """``cat_store.record_answer`` (``values``: its keyword arguments); False when no row waits."""
    cursor = await connection.execute(RECORD_ANSWER, values, prepare=True)
    return await cursor.fetchone() is not None
