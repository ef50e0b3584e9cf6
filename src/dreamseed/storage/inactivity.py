"""detect-inactivity's SQL: who is inactive as of a day, and the inactivity episodes (`user_inactivity`).

Activity = a finished exam session (`exam_results`, at COALESCE(updated_at, created_at)) or a
platform session (`session`, at COALESCE(ended_at, started_at, created_at)), by the canonical
`user_id`. Answered questions (`attempt_fact`) carry their exam result's timestamp, so
`exam_results` already covers them at a fraction of the rows. Only activity before the end of the
run date counts, so a replay or backfill of an earlier date sees the past only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from dreamseed.storage.frames import copy_frame, read_frame, staging_table
from dreamseed.storage.shard import Shard, sql_filter

EPISODE_COLUMNS = ("user_id", "last_seen_at", "inactive_since", "threshold_days")


EXAM_AT = "COALESCE(e.updated_at, e.created_at)"
SESSION_AT = "COALESCE(s.ended_at, s.started_at, s.created_at)"


def _window_activity(shard: Shard) -> str:
    """Every activity (user_id, at) from :window_start to before :end."""
    exam_shard = "" if shard.is_whole else f"AND {sql_filter('e.user_id')}"
    session_shard = "" if shard.is_whole else f"AND {sql_filter('s.user_id')}"
    return f"""
        SELECT e.user_id, {EXAM_AT} AS at FROM exam_results e
        WHERE {EXAM_AT} >= :window_start AND {EXAM_AT} < :end AND e.user_id <> '' {exam_shard}
        UNION ALL
        SELECT s.user_id, {SESSION_AT} AS at FROM session s
        WHERE {SESSION_AT} >= :window_start AND {SESSION_AT} < :end AND s.user_id <> '' {session_shard}
    """


def _params(shard: Shard, **values: Any) -> dict[str, Any]:
    return {"shard_count": shard.count, "shard_index": shard.index, **values}


def read_inactive_users(
    connection: Connection, run_date: date, threshold_days: int, window_days: int, shard: Shard | None = None
) -> pd.DataFrame:
    """Users inactive as of `run_date`: columns user_id, last_seen_at (UTC), sorted by user_id.

    Inactive = the last activity on or before `run_date` is on a UTC day at least `threshold_days`
    before it, and the user was active within the `window_days` days ending at `run_date` (the
    days S looks at). One set-based query.
    """
    shard = shard or Shard.whole()
    query = f"""
        SELECT user_id, max(at) AS last_seen_at FROM ({_window_activity(shard)}) activity
        GROUP BY user_id HAVING max(at) < :cutoff ORDER BY user_id
    """
    params = _params(
        shard,
        window_start=run_date - timedelta(days=window_days - 1),
        end=run_date + timedelta(days=1),
        cutoff=run_date - timedelta(days=threshold_days - 1),
    )
    frame = read_frame(connection, query, params)
    if frame.empty:
        return pd.DataFrame(
            {"user_id": pd.Series(dtype=object), "last_seen_at": pd.Series(dtype="datetime64[ns, UTC]")}
        )
    frame["last_seen_at"] = pd.to_datetime(frame["last_seen_at"], utc=True)
    return frame


def read_episodes(connection: Connection, user_ids: list[str]) -> pd.DataFrame:
    """Stored episodes of these users: user_id, last_seen_at (the key with user_id), inactive_since,
    returned_at."""
    frame = read_frame(
        connection,
        """
        SELECT user_id, last_seen_at, inactive_since, returned_at FROM user_inactivity
        WHERE user_id = ANY(:users)
        """,
        {"users": user_ids},
    )
    if not frame.empty:
        frame["last_seen_at"] = pd.to_datetime(frame["last_seen_at"], utc=True)
    return frame


def upsert_episodes(connection: Connection, run_date: date, episodes: pd.DataFrame) -> int:
    """Open (or touch) each user's episode (columns ``EPISODE_COLUMNS``) as detected on `run_date`.

    An existing episode keeps its inactive_since and first detection (the first run's values); only
    the detection range widens. Returns the number of rows inserted or changed.
    """
    if episodes.empty:
        return 0
    staging_table(
        connection,
        "staging_inactivity",
        "(user_id text, last_seen_at timestamptz, inactive_since date, threshold_days integer)",
    )
    copy_frame(connection, "staging_inactivity", episodes[list(EPISODE_COLUMNS)])
    result = connection.execute(
        text(
            """
            INSERT INTO user_inactivity (user_id, last_seen_at, inactive_since, threshold_days,
                                         first_detected_on, last_detected_on)
            SELECT user_id, last_seen_at, inactive_since, threshold_days, :run_date, :run_date
            FROM staging_inactivity
            ON CONFLICT (user_id, last_seen_at) DO UPDATE SET
                first_detected_on = LEAST(user_inactivity.first_detected_on, EXCLUDED.first_detected_on),
                last_detected_on = GREATEST(user_inactivity.last_detected_on, EXCLUDED.last_detected_on),
                updated_at = now()
            WHERE (LEAST(user_inactivity.first_detected_on, EXCLUDED.first_detected_on),
                   GREATEST(user_inactivity.last_detected_on, EXCLUDED.last_detected_on))
                  IS DISTINCT FROM (user_inactivity.first_detected_on, user_inactivity.last_detected_on)
            """
        ),
        {"run_date": run_date},
    )
    return int(result.rowcount or 0)


def read_returned_users(connection: Connection, run_date: date, shard: Shard | None = None) -> pd.DataFrame:
    """Open episodes whose user came back by the end of `run_date`: user_id, last_seen_at, returned_at
    (the first activity after the gap). One statement; each episode looks up its user's next
    activity through the (user_id, time) indexes. Read-only; `close_episodes` writes it."""
    shard = shard or Shard.whole()
    episode_shard = "" if shard.is_whole else f"AND {sql_filter('u.user_id')}"
    exam_at, session_at = EXAM_AT, SESSION_AT
    frame = read_frame(
        connection,
        f"""
        SELECT u.user_id, u.last_seen_at, back.returned_at
        FROM user_inactivity u
        CROSS JOIN LATERAL (
            SELECT min(at) AS returned_at FROM (
                SELECT min({exam_at}) AS at FROM exam_results e
                WHERE e.user_id = u.user_id AND {exam_at} > u.last_seen_at AND {exam_at} < :end
                UNION ALL
                SELECT min({session_at}) FROM session s
                WHERE s.user_id = u.user_id AND {session_at} > u.last_seen_at AND {session_at} < :end
            ) next_activity
        ) back
        WHERE u.returned_at IS NULL AND back.returned_at IS NOT NULL {episode_shard}
        ORDER BY u.user_id
        """,
        _params(shard, end=run_date + timedelta(days=1)),
    )
    if not frame.empty:
        frame["last_seen_at"] = pd.to_datetime(frame["last_seen_at"], utc=True)
        frame["returned_at"] = pd.to_datetime(frame["returned_at"], utc=True)
    return frame


def close_episodes(connection: Connection, returned: pd.DataFrame) -> int:
    """Close the episodes in `returned` (user_id, last_seen_at, returned_at); returns rows closed."""
    if returned.empty:
        return 0
    staging_table(
        connection, "staging_returned", "(user_id text, last_seen_at timestamptz, returned_at timestamptz)"
    )
    copy_frame(connection, "staging_returned", returned[["user_id", "last_seen_at", "returned_at"]])
    result = connection.execute(
        text(
            """
            UPDATE user_inactivity u SET returned_at = r.returned_at, updated_at = now()
            FROM staging_returned r
            WHERE u.user_id = r.user_id AND u.last_seen_at = r.last_seen_at AND u.returned_at IS NULL
            """
        )
    )
    return int(result.rowcount or 0)
