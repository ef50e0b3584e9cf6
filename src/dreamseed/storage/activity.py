"""Bulk reads of learning activity for the jobs: attempts, θ history, abilities and goals.

The largest reads (attempts, θ history) come as packed binary groups (``storage.packed``); other
large ones go through `COPY (query) TO STDOUT` into pandas; both are several times faster than
fetching rows one by one. Every reader takes a day range (UTC, inclusive), an optional shard and, for
the per-user ones, an optional ``UserRange`` (a job's part of its users).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from dreamseed.storage.frames import copy_out_csv, read_frame
from dreamseed.storage.packed import (
    PackedColumn,
    PackedGroups,
    concatenated,
    only_keys,
    read_packed_groups,
    row_keys,
)
from dreamseed.storage.shard import Shard, sql_filter


@dataclass(frozen=True)
class UserRange:
    """The user ids from ``first`` to ``last`` (inclusive) in the database's collation: a job's part
    of its users that the (user_id, …) indexes read directly."""

    first: str
    last: str


def _shard_clause(shard: Shard, column: str, between: UserRange | None = None) -> str:
    """WHERE fragment (``AND …`` or empty) keeping ``column``'s users of the shard and the range."""
    clause = "" if shard.is_whole else f"AND {sql_filter(column)}"
    return clause if between is None else f"{clause} AND {column} BETWEEN :first_user AND :last_user"


def _shard_params(shard: Shard, between: UserRange | None = None) -> dict[str, Any]:
    users = {} if between is None else {"first_user": between.first, "last_user": between.last}
    return {"shard_count": shard.count, "shard_index": shard.index, **users}


def _window_params(
    first_day: date,
    last_day: date,
    shard: Shard,
    user_ids: list[str] | None = None,
    between: UserRange | None = None,
) -> dict[str, Any]:
    """Bind values of the UTC days first_day..last_day (end exclusive), the shard and the users."""
    return {
        "start": first_day,
        "end": last_day + timedelta(days=1),
        "user_ids": user_ids,
        **_shard_params(shard, between),
    }


def _users_clause(user_ids: list[str] | None) -> str:
    return "AND a.user_id = ANY(:user_ids)" if user_ids is not None else ""


ATTEMPT_SLICE_DAYS = 14
"""read_attempts reads its window in slices of this many days, to bound the server's memory."""
SERVER_FILTER_MAX_USERS = 1000
"""Up to this many users, read_attempts filters them in one query (index lookups per user); beyond,
it reads the window in slices and drops the other users' groups from each slice as it arrives, which
costs less than testing every row."""
_ATTEMPT_COLUMNS = (
    PackedColumn("item_id", "a.item_id", "int8"),
    PackedColumn("topic_id", "coalesce(hashtextextended(a.topic_id, 0), 0)", "int8"),
    PackedColumn("correct", "a.correct", "bool"),
    PackedColumn("response_time_ms", "a.response_time_ms", "int4"),
    PackedColumn("hints", "a.hints", "int4"),
    PackedColumn("completed_at", "a.completed_at", "timestamptz"),
    PackedColumn("session_id", "hashtextextended(a.session_id, 0)", "int8"),
)


def read_attempts(
    connection: Connection,
    first_day: date,
    last_day: date,
    shard: Shard | None = None,
    user_ids: list[str] | None = None,
    between: UserRange | None = None,
) -> pd.DataFrame:
    """Attempts completed on UTC days first_day..last_day: the KPI library's attempts frame.

    Columns: user_id (categorical: the KPI library groups it much faster), item_id, topic_id,
    correct, response_time_ms, hint_used (bool), hints (count), completed_at (UTC), session_id.
    topic_id and session_id are 64-bit hashes of the ids (topic: 0 when null): what the KPIs need
    is which answers share a key or a session, and integers travel and group far faster than text.
    Rows come in no particular order. Read as packed binary groups (see ``storage.packed``); for
    more than SERVER_FILTER_MAX_USERS users, in slices of ATTEMPT_SLICE_DAYS days.
    """
    shard = shard or Shard.whole()
    if user_ids is not None and len(user_ids) <= SERVER_FILTER_MAX_USERS:
        groups = _read_attempt_groups(connection, first_day, last_day, shard, user_ids, between)
    else:
        with _grouping_in_memory(connection):
            slices = (
                _read_attempt_groups(connection, start, end, shard, None, between)
                for start, end in _day_slices(first_day, last_day, ATTEMPT_SLICE_DAYS)
            )
            groups = concatenated(
                [only_keys(part, user_ids) if user_ids is not None else part for part in slices]
            )
    columns = groups.columns
    return pd.DataFrame(
        {
            "user_id": row_keys(groups),
            "item_id": columns["item_id"],
            "topic_id": columns["topic_id"],
            "correct": columns["correct"],
            "response_time_ms": columns["response_time_ms"].astype(np.int64),
            "hints": columns["hints"].astype(np.int64),
            "hint_used": columns["hints"] > 0,
            "completed_at": pd.to_datetime(columns["completed_at"], unit="us", utc=True),
            "session_id": columns["session_id"],
        }
    )


def _read_attempt_groups(
    connection: Connection,
    first_day: date,
    last_day: date,
    shard: Shard,
    user_ids: list[str] | None,
    between: UserRange | None,
) -> PackedGroups:
    return read_packed_groups(
        connection,
        key="a.user_id",
        columns=_ATTEMPT_COLUMNS,
        source=f"""FROM attempt_fact a
            WHERE a.completed_at >= :start AND a.completed_at < :end
                  {_shard_clause(shard, "a.user_id", between)} {_users_clause(user_ids)}""",
        params=_window_params(first_day, last_day, shard, user_ids, between),
    )


def _day_slices(first_day: date, last_day: date, days: int) -> list[tuple[date, date]]:
    """first_day..last_day (inclusive) cut into consecutive (first, last) ranges of at most ``days``;
    an empty range stays one (empty) slice."""
    slices = []
    start = first_day
    while start <= last_day:
        end = min(last_day, start + timedelta(days=days - 1))
        slices.append((start, end))
        start = end + timedelta(days=1)
    return slices or [(first_day, last_day)]


@contextmanager
def _grouping_in_memory(connection: Connection) -> Iterator[None]:
    """Within: hash the groups in memory (work_mem 256MB, no sort-based grouping, which spills a
    slice's rows to disk); the previous settings come back afterwards."""
    settings = {"work_mem": "256MB", "enable_sort": "off"}
    read = text("SELECT current_setting(:name)")
    previous = {name: connection.execute(read, {"name": name}).scalar_one() for name in settings}
    change = text("SELECT set_config(:name, :value, true)")
    for name, value in settings.items():
        connection.execute(change, {"name": name, "value": value})
    try:
        yield
    finally:
        for name, value in previous.items():
            connection.execute(change, {"name": name, "value": value})


def read_answer_days(
    connection: Connection,
    first_day: date,
    last_day: date,
    shard: Shard | None = None,
    user_ids: list[str] | None = None,
) -> pd.DataFrame:
    """Answers on UTC days first_day..last_day, with only what I_t needs: who, which day, right or wrong.

    Counted per (user, day, correct) in SQL and expanded back to one row per answer, so the KPI
    library's attempts frame comes out (ATTEMPT_COLUMNS) at a fraction of the transfer: completed_at
    is noon UTC of the answer's day, and item, topic, time, hints and session are placeholders.
    """
    shard = shard or Shard.whole()
    query = f"""
        SELECT a.user_id, (a.completed_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01' AS day,
               a.correct::int AS correct, count(*) AS answers
        FROM attempt_fact a
        WHERE a.completed_at >= :start AND a.completed_at < :end
              {_shard_clause(shard, "a.user_id")} {_users_clause(user_ids)}
        GROUP BY 1, 2, 3
    """
    params = _window_params(first_day, last_day, shard, user_ids)
    counts = copy_out_csv(
        connection,
        query,
        params,
        dtype={"user_id": str, "day": "int64", "correct": "int8", "answers": "int64"},
    )
    repeat = counts["answers"].to_numpy()
    n = int(repeat.sum())
    noon = (counts["day"].to_numpy() * 86_400 + 43_200).repeat(repeat)
    return pd.DataFrame(
        {
            "user_id": pd.Categorical(counts["user_id"].to_numpy().repeat(repeat)),
            "item_id": np.zeros(n, dtype=np.int64),
            "topic_id": None,
            "correct": counts["correct"].to_numpy().repeat(repeat).astype(bool),
            "response_time_ms": np.zeros(n, dtype=np.int64),
            "hint_used": np.zeros(n, dtype=bool),
            "completed_at": pd.to_datetime(noon, unit="s", utc=True),
            "session_id": "",
        }
    )


def read_theta_history(
    connection: Connection,
    first_day: date,
    last_day: date,
    shard: Shard | None = None,
    between: UserRange | None = None,
) -> pd.DataFrame:
    """θ history (mirt_ability_history) fitted on UTC days first_day..last_day: user_id, fitted_at, theta, se
    (NaN where null). Rows come in no particular order."""
    shard = shard or Shard.whole()
    groups = read_packed_groups(
        connection,
        key="h.user_id",
        columns=(
            PackedColumn("fitted_at", "h.fitted_at", "timestamptz"),
            PackedColumn("theta", "h.theta", "float8"),
            PackedColumn("se", "coalesce(h.se, 'NaN')", "float8"),
        ),
        source=f"""FROM mirt_ability_history h
            WHERE h.fitted_at >= :start AND h.fitted_at < :end {_shard_clause(shard, "h.user_id", between)}""",
        params=_window_params(first_day, last_day, shard, between=between),
    )
    return pd.DataFrame(
        {
            "user_id": row_keys(groups).astype(object),
            "fitted_at": pd.to_datetime(groups.columns["fitted_at"], unit="us", utc=True),
            "theta": groups.columns["theta"],
            "se": groups.columns["se"],
        }
    )


def read_latest_abilities(
    connection: Connection, last_day: date, shard: Shard | None = None, between: UserRange | None = None
) -> pd.DataFrame:
    """Each user's latest θ fitted by the end of last_day: user_id, mean, sd (for the static P)."""
    shard = shard or Shard.whole()
    return read_frame(
        connection,
        f"""
        SELECT DISTINCT ON (h.user_id) h.user_id, h.theta AS mean, h.se AS sd
        FROM mirt_ability_history h
        WHERE h.fitted_at < :end {_shard_clause(shard, "h.user_id", between)}
        ORDER BY h.user_id, h.fitted_at DESC
    """,
        {"end": last_day + timedelta(days=1), **_shard_params(shard, between)},
    )


def read_goals(
    connection: Connection, shard: Shard | None = None, between: UserRange | None = None
) -> pd.DataFrame:
    """Each user's goal of highest priority: user_id, topic_id, target_level, target_date."""
    shard = shard or Shard.whole()
    return read_frame(
        connection,
        f"""
        SELECT DISTINCT ON (g.user_id) g.user_id, g.topic_id, g.target_level, g.target_date
        FROM interest_goal g
        WHERE true {_shard_clause(shard, "g.user_id", between)}
        ORDER BY g.user_id, g.priority DESC, g.target_date NULLS LAST, g.topic_id
    """,
        _shard_params(shard, between),
    )


def read_active_users(
    connection: Connection, first_day: date, last_day: date, shard: Shard | None = None
) -> list[str]:
    """Users with an attempt on UTC days first_day..last_day, sorted."""
    shard = shard or Shard.whole()
    frame = read_frame(
        connection,
        f"""
        SELECT DISTINCT a.user_id FROM attempt_fact a
        WHERE a.completed_at >= :start AND a.completed_at < :end {_shard_clause(shard, "a.user_id")}
        ORDER BY 1
    """,
        _window_params(first_day, last_day, shard),
    )
    return frame["user_id"].tolist() if not frame.empty else []


def count_attempts(
    connection: Connection, first_day: date, last_day: date, shard: Shard | None = None
) -> tuple[int, int]:
    """(attempts, distinct users) on UTC days first_day..last_day in the shard."""
    shard = shard or Shard.whole()
    row = connection.execute(
        text(
            f"""SELECT count(*), count(DISTINCT a.user_id) FROM attempt_fact a
            WHERE a.completed_at >= :start AND a.completed_at < :end {_shard_clause(shard, "a.user_id")}"""
        ),
        _window_params(first_day, last_day, shard),
    ).one()
    return int(row[0]), int(row[1])


def read_user_sample(connection: Connection, first_day: date, last_day: date, size: int) -> list[str]:
    """Up to ``size`` users with an attempt on UTC days first_day..last_day, the same ones whichever
    shard or job asks: those with the smallest hash of their id (a fixed pseudo-random sample)."""
    frame = read_frame(
        connection,
        """
        SELECT u.user_id FROM (
            SELECT DISTINCT a.user_id FROM attempt_fact a
            WHERE a.completed_at >= :start AND a.completed_at < :end
        ) u
        ORDER BY hashtextextended(u.user_id, 0), u.user_id LIMIT :size
    """,
        {**_window_params(first_day, last_day, Shard.whole()), "size": size},
    )
    return frame["user_id"].tolist() if not frame.empty else []
