"""SQL of `dreamseed evaluate` and churn-model training: the scratch database, the forecasts the
pipeline wrote for a week, and who was active on which day (the outcomes)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd
import psycopg
from sqlalchemy import Connection
from sqlalchemy.engine import URL

from dreamseed.storage.database import libpq_url
from dreamseed.storage.frames import read_frame
from dreamseed.storage.inactivity import EXAM_AT, SESSION_AT

_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
FORECAST_KEYS = (
    "P",
    "P_static",
    "P_trend",
    "P_method",
    "S",
    "S_v1",
    "S_source",
    "days_since_last",
    "inactive",
)


class ScratchDatabaseError(ValueError):
    """The scratch database cannot be used (bad name, same as the main database, no privilege)."""


def scratch_url(main_url: URL, name: str) -> URL:
    """The URL of database `name` on the main database's server; refuses the main database itself."""
    if not _DATABASE_NAME.match(name):
        raise ScratchDatabaseError(f"scratch database name must match {_DATABASE_NAME.pattern}, got {name!r}")
    if name == main_url.database:
        raise ScratchDatabaseError(f"the scratch database must not be the main database ({name})")
    return main_url.set(database=name)


def recreate_database(url: URL) -> None:
    """Drop the database of `url` (closing its connections) and create it empty."""
    with _server(url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{url.database}"')


def drop_database(url: URL) -> None:
    with _server(url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def _server(url: URL) -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection to the server's `postgres` database (CREATE/DROP DATABASE need one)."""
    assert url.database is not None
    assert _DATABASE_NAME.match(url.database)
    try:
        return psycopg.connect(libpq_url(url.set(database="postgres")), autocommit=True)
    except psycopg.Error as error:
        raise ScratchDatabaseError(
            f"cannot connect to the server to create {url.database}: {error}"
        ) from None


def read_week_forecasts(connection: Connection, week_start: date) -> pd.DataFrame:
    """The forecasts stored in weekly_kpi for the week: user_id and ``FORECAST_KEYS`` (None when
    absent), sorted by user_id."""
    selected = ", ".join(f"kpis->'{key}' AS \"{key}\"" for key in FORECAST_KEYS)
    frame = read_frame(
        connection,
        f"SELECT user_id, {selected} FROM weekly_kpi WHERE week_start = :week ORDER BY user_id",
        {"week": week_start},
    )
    if frame.empty:
        return pd.DataFrame(columns=["user_id", *FORECAST_KEYS])
    for key in ("P", "P_static", "P_trend", "S", "S_v1", "days_since_last"):
        frame[key] = pd.to_numeric(frame[key], errors="coerce").astype(float)
    return frame


def read_activity_days(connection: Connection, first_day: date, last_day: date) -> pd.DataFrame:
    """Distinct (user_id, day) with activity (exam session or platform session) on UTC days
    first_day..last_day."""
    frame = read_frame(
        connection,
        f"""
        SELECT DISTINCT user_id, day FROM (
            SELECT e.user_id, ({EXAM_AT})::date AS day FROM exam_results e
            WHERE {EXAM_AT} >= :start AND {EXAM_AT} < :end AND e.user_id <> ''
            UNION ALL
            SELECT s.user_id, ({SESSION_AT})::date FROM session s
            WHERE {SESSION_AT} >= :start AND {SESSION_AT} < :end AND s.user_id <> ''
        ) activity
        """,
        {"start": first_day, "end": last_day + timedelta(days=1)},
    )
    return frame if not frame.empty else pd.DataFrame({"user_id": [], "day": []})
