"""SQL of the adaptive-testing service: the item bank with topics, who is a known user, and
``cat_events`` — one row per item served, answered in place, which is also the session's state.

A session is the rows of one (user_id, session_id), read in serving order with one statement on
the table's unique index. Every call is one statement. The writes commit without waiting for the
WAL flush (``synchronous_commit`` off for that transaction only, as the online θ update does): a
database crash may lose the last few hundred milliseconds of events, never corrupt them; a lost
served row only means the item may be served again in that session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from dreamseed.storage.frames import read_frame


@dataclass(frozen=True)
class ServedItem:
    """One row of a session: the item, its answer (None while unanswered), the items whose
    Sympson–Hetter lottery failed at the step that served it, and where the session started
    (``start`` "stored" or "prior"; ``prior_mean`` the θ of that start)."""

    item_id: str
    correct: bool | None
    rejected: tuple[str, ...]
    start: str = "prior"
    prior_mean: float = 0.0


@dataclass(frozen=True)
class StoredTheta:
    """A student's current θ of a version (mirt_ability: the latest online or calibrated value)."""

    theta: float
    se: float | None
    fitted_at: datetime


def read_cat_bank(connection: Connection, version: str) -> pd.DataFrame:
    """The latest parameters of every item of ``version`` with its topic (question.topic_id, ""
    when the item has no question row) and its tags. Columns: item_id (text), a, b, c (float),
    topic (text), retired and anchor (bool: question.meta.tags holds "retired" / "anchor")."""
    return read_frame(
        connection,
        """
        SELECT p.item_id, COALESCE((p.params->>'a')::float8, 1) AS a, (p.params->>'b')::float8 AS b,
               COALESCE((p.params->>'c')::float8, 0) AS c, COALESCE(q.topic_id, '') AS topic,
               COALESCE(q.meta @> '{"tags": ["retired"]}'::jsonb, false) AS retired,
               COALESCE(q.meta @> '{"tags": ["anchor"]}'::jsonb, false) AS anchor
        FROM mirt_item_params p
        LEFT JOIN question q
               ON q.id = CASE WHEN p.item_id ~ '^[0-9]{1,18}$' THEN p.item_id::bigint END
        WHERE p.version = :version AND p.params->>'b' IS NOT NULL
        ORDER BY p.item_id
        """,
        {"version": version},
    )


def user_is_known(connection: Connection, user_id: str) -> bool:
    """Whether the platform knows ``user_id``: a session, an exam result, an answer or an ability
    (each an index lookup)."""
    return bool(
        connection.execute(
            text(
                """
                SELECT EXISTS (SELECT 1 FROM mirt_ability WHERE user_id = :u)
                    OR EXISTS (SELECT 1 FROM attempt_fact WHERE user_id = :u)
                    OR EXISTS (SELECT 1 FROM exam_results WHERE user_id = :u)
                    OR EXISTS (SELECT 1 FROM session WHERE user_id = :u)
                    OR EXISTS (SELECT 1 FROM cat_events WHERE user_id = :u)
                """
            ),
            {"u": user_id},
        ).scalar_one()
    )


def read_session(connection: Connection, user_id: str, session_id: str) -> list[ServedItem]:
    """The items served in a session so far, in serving order."""
    rows = connection.execute(
        text(
            "SELECT item_id, correct, rejected, start, prior_mean FROM cat_events "
            "WHERE user_id = :u AND session_id = :s ORDER BY id"
        ),
        {"u": user_id, "s": session_id},
    ).all()
    return [ServedItem(row[0], row[1], tuple(row[2] or ()), row[3], float(row[4])) for row in rows]


def read_stored_theta(connection: Connection, user_id: str, version: str) -> StoredTheta | None:
    """The user's current θ of ``version`` (mirt_ability's primary key), None when there is none."""
    row = connection.execute(
        text("SELECT theta, se, fitted_at FROM mirt_ability WHERE user_id = :u AND version = :v"),
        {"u": user_id, "v": version},
    ).first()
    if row is None:
        return None
    return StoredTheta(float(row[0]), None if row[1] is None else float(row[1]), row[2])


def read_recently_answered(
    connection: Connection, user_id: str, since: datetime, session_id: str
) -> list[str]:
    """Distinct item ids the user answered at or after ``since``: in exam attempts (attempt_fact's
    (user_id, completed_at) index) and in other adaptive sessions (cat_events' (user_id, …) unique
    index). One statement, one row (an array)."""
    row = connection.execute(
        text(
            """
            SELECT array_agg(DISTINCT item_id) FROM (
                SELECT item_id::text AS item_id FROM attempt_fact
                WHERE user_id = :u AND completed_at >= :since
                UNION ALL
                SELECT item_id FROM cat_events
                WHERE user_id = :u AND answered_at >= :since AND session_id <> :s
            ) answered
            """
        ),
        {"u": user_id, "since": since, "s": session_id},
    ).one()
    return list(row[0] or [])


def record_served(connection: Connection, event: dict[str, Any]) -> bool:
    """Insert the row of an item served; False when this session already has the item (a
    concurrent request served it). ``event`` holds the columns user_id … version of cat_events, and
    start and prior_mean (default "prior" and 0)."""
    inserted = connection.execute(
        text(
            """
            WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true) AS setting)
            INSERT INTO cat_events (user_id, session_id, item_id, position, topic_id, policy, reason,
                                    theta_before, se_before, rejected, version, served_at, start,
                                    prior_mean)
            SELECT :user_id, :session_id, :item_id, :position, :topic_id, :policy, :reason,
                   :theta_before, :se_before, CAST(:rejected AS text[]), :version, :served_at, :start,
                   :prior_mean
            FROM async_commit
            ON CONFLICT (user_id, session_id, item_id) DO NOTHING
            RETURNING id
            """
        ),
        {"start": "prior", "prior_mean": 0.0, **event},
    ).first()
    return inserted is not None


def record_answer(
    connection: Connection,
    *,
    user_id: str,
    session_id: str,
    item_id: str,
    correct: bool,
    theta_after: float,
    se_after: float,
    answered_at: datetime,
) -> bool:
    """Fill the answer of a served, unanswered item; False when no such row is waiting."""
    updated = connection.execute(
        text(
            """
            WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true) AS setting)
            UPDATE cat_events SET correct = :correct, answered_at = :answered_at,
                                  theta_after = :theta_after, se_after = :se_after
            FROM async_commit
            WHERE user_id = :user_id AND session_id = :session_id AND item_id = :item_id
                  AND correct IS NULL
            RETURNING cat_events.id
            """
        ),
        {
            "user_id": user_id,
            "session_id": session_id,
            "item_id": item_id,
            "correct": correct,
            "theta_after": theta_after,
            "se_after": se_after,
            "answered_at": answered_at,
        },
    ).first()
    return updated is not None


def read_exposure(
    connection: Connection,
    since: datetime,
    until: datetime,
    version: str | None = None,
    item_ids: Sequence[str] | None = None,
) -> tuple[int, pd.DataFrame]:
    """Exposure observed in cat_events served in [since, until) (of ``version``; every version when
    None): the number of sessions (distinct user_id, session_id) and, per item served or examined
    (restricted to ``item_ids`` when given), in how many sessions it was served and in how many it
    was examined (served, or drawn for a Sympson–Hetter lottery that failed; an item is examined at
    most once per session). Columns: item_id (text), served, examined (int). One statement."""
    frame = read_frame(
        connection,
        """
        WITH events AS MATERIALIZED (
            SELECT user_id, session_id, item_id, rejected FROM cat_events
            WHERE served_at >= :since AND served_at < :until
                  AND (CAST(:version AS text) IS NULL OR version = :version)
        ), sessions AS (
            SELECT count(*) AS n FROM (SELECT DISTINCT user_id, session_id FROM events) s
        ), examined AS (
            SELECT item_id, true AS served FROM events
            UNION ALL
            SELECT unnest(rejected), false FROM events WHERE cardinality(rejected) > 0
        )
        SELECT x.item_id, count(*) FILTER (WHERE x.served) AS served, count(*) AS examined,
               (SELECT n FROM sessions) AS sessions
        FROM examined x
        WHERE CAST(:items AS text[]) IS NULL OR x.item_id = ANY(CAST(:items AS text[]))
        GROUP BY x.item_id
        UNION ALL
        SELECT NULL, 0, 0, n FROM sessions
        ORDER BY 1 NULLS FIRST
        """,
        {
            "since": since,
            "until": until,
            "version": version,
            "items": None if item_ids is None else list(item_ids),
        },
    )
    sessions = int(frame["sessions"].iloc[0])
    items = frame.iloc[1:].drop(columns="sessions").astype({"served": "int64", "examined": "int64"})
    return sessions, items.reset_index(drop=True)
