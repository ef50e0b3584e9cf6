"""generate-weekly-report's SQL: bulk reads of what the reports show, and the report_artifacts upsert.

Every read is one statement for the whole population of the week: the users with a `weekly_kpi`
row for the week (optionally one shard, or a list of user ids), never a query per user. Dates are
UTC days (the engine's sessions run in UTC). Read them in one REPEATABLE READ transaction for a
consistent snapshot.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import Connection, text

from dreamseed.reports.inputs import KPI_COLUMNS
from dreamseed.storage.frames import copy_frame, copy_out_csv, read_frame, staging_table
from dreamseed.storage.shard import Shard, sql_filter

HISTORY_WEEKS = 8


class ReportPopulation:
    """Which users a run covers: those with a weekly_kpi row for ``week_start``, in ``shard``,
    restricted to ``user_ids`` when given. Supplies the SQL fragment and its parameters."""

    def __init__(self, week_start: date, shard: Shard | None = None, user_ids: Sequence[str] = ()) -> None:
        self.week_start = week_start
        self.shard = shard or Shard.whole()
        self.user_ids = list(user_ids)

    def users_sql(self) -> str:
        """A subquery of the covered user ids (column user_id)."""
        shard = "" if self.shard.is_whole else f"AND {sql_filter('w.user_id')}"
        users = "AND w.user_id = ANY(:user_ids)" if self.user_ids else ""
        return f"SELECT w.user_id FROM weekly_kpi w WHERE w.week_start = :week_start {shard} {users}"

    def params(self, **values: Any) -> dict[str, Any]:
        return {
            "week_start": self.week_start,
            "week_end": self.week_start + timedelta(days=6),
            "shard_count": self.shard.count,
            "shard_index": self.shard.index,
            "user_ids": self.user_ids,
            **values,
        }


def _number(key: str) -> str:
    return f"CASE WHEN jsonb_typeof(k.kpis->'{key}') = 'number' THEN (k.kpis->>'{key}')::float8 END"


def read_week_kpis(connection: Connection, population: ReportPopulation) -> pd.DataFrame:
    """KPIs of the covered users for the week and the week before, one row per (user_id, week_start).

    Columns: user_id, week_start (date), I_t, E_t, R_t, A_t, P, S, P_target, days_inactive (float,
    NaN when missing or not a number), inactive (1, 0 or <NA>), inactive_since (ISO date text or NaN).
    """
    numbers = ", ".join(f'{_number(key)} AS "{key}"' for key in (*KPI_COLUMNS, "P_target", "days_inactive"))
    query = f"""
        SELECT k.user_id, k.week_start::text AS week_start, {numbers},
               CASE WHEN jsonb_typeof(k.kpis->'inactive') = 'boolean'
                    THEN (k.kpis->>'inactive')::boolean::int END AS inactive,
               CASE WHEN jsonb_typeof(k.kpis->'inactive_since') = 'string'
                     AND k.kpis->>'inactive_since' ~ '^\\d{{4}}-\\d{{2}}-\\d{{2}}'
                    THEN left(k.kpis->>'inactive_since', 10) END AS inactive_since
        FROM weekly_kpi k
        WHERE k.week_start IN (:week_start, :previous_week) AND k.user_id IN ({population.users_sql()})
    """
    dtype: dict[str, Any] = {"user_id": str, "week_start": str, "inactive": "Int8", "inactive_since": str}
    dtype |= dict.fromkeys((*KPI_COLUMNS, "P_target", "days_inactive"), "float64")
    params = population.params(previous_week=population.week_start - timedelta(days=7))
    frame = copy_out_csv(connection, query, params, dtype)
    frame["week_start"] = pd.to_datetime(frame["week_start"]).dt.date
    return frame


def read_theta_history(connection: Connection, population: ReportPopulation) -> pd.DataFrame:
    """The last θ of each ISO week in the 8 weeks ending with the reported week (mirt_ability_history).

    Columns: user_id, date (UTC day of the estimate), theta, se (NaN when unknown).
    """
    week = "date_trunc('week', h.fitted_at)"
    query = f"""
        SELECT DISTINCT ON (h.user_id, {week}) h.user_id, h.fitted_at::date::text AS date, h.theta, h.se
        FROM mirt_ability_history h
        WHERE h.fitted_at >= :first_day AND h.fitted_at < :end AND h.user_id IN ({population.users_sql()})
        ORDER BY h.user_id, {week}, h.fitted_at DESC
    """
    first_day = population.week_start - timedelta(weeks=HISTORY_WEEKS - 1)
    params = population.params(first_day=first_day, end=population.week_start + timedelta(days=7))
    dtype = {"user_id": str, "date": str, "theta": "float64", "se": "float64"}
    frame = copy_out_csv(connection, query, params, dtype)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


def read_topic_days(connection: Connection, population: ReportPopulation) -> pd.DataFrame:
    """features_topic_daily rows of the week: user_id, topic_id, date, attempts, correct, theta, se."""
    query = f"""
        SELECT f.user_id, f.topic_id, f.date::text AS date, f.attempts, f.correct,
               f.theta_estimate AS theta, f.theta_sd AS se
        FROM features_topic_daily f
        WHERE f.date BETWEEN :week_start AND :week_end AND f.user_id IN ({population.users_sql()})
    """
    dtype = {
        "user_id": str,
        "topic_id": str,
        "date": str,
        "attempts": "int64",
        "correct": "int64",
        "theta": "float64",
        "se": "float64",
    }
    frame = copy_out_csv(connection, query, population.params(), dtype)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    return frame


ITEM_BANK = """
    SELECT p.item_id, (p.params->>'b')::float8 AS b FROM mirt_item_params p
    WHERE jsonb_typeof(p.params->'b') = 'number'
    UNION ALL
    SELECT q.id::text, (q.meta->'irt'->>'b')::float8 FROM question q
    WHERE jsonb_typeof(q.meta->'irt'->'b') = 'number'
          AND NOT EXISTS (SELECT 1 FROM mirt_item_params p WHERE p.item_id = q.id::text)
"""
"""Item difficulties: the calibrated b of mirt_item_params, else the b in question.meta.irt."""


def read_item_difficulties(connection: Connection) -> npt.NDArray[np.float64]:
    """The item bank's finite difficulties b (logits), shape (n_items,), sorted by item id."""
    frame = read_frame(connection, f"SELECT b FROM ({ITEM_BANK}) bank ORDER BY item_id")
    values = frame["b"].to_numpy(dtype=np.float64) if not frame.empty else np.empty(0)
    return values[np.isfinite(values)]


def read_seen_difficulties(connection: Connection, population: ReportPopulation) -> pd.DataFrame:
    """The b of each distinct item a covered user answered in the week: user_id, b."""
    query = f"""
        SELECT seen.user_id, bank.b
        FROM (SELECT DISTINCT a.user_id, a.item_id FROM attempt_fact a
              WHERE a.completed_at >= :week_start AND a.completed_at < :end
                    AND a.user_id IN ({population.users_sql()})) seen
        JOIN ({ITEM_BANK}) bank ON bank.item_id = seen.item_id::text
    """
    params = population.params(end=population.week_start + timedelta(days=7))
    return copy_out_csv(connection, query, params, {"user_id": str, "b": "float64"})


def read_goals(connection: Connection, population: ReportPopulation) -> pd.DataFrame:
    """Each covered user's goal of highest priority: user_id, topic_id, target_level, target_date."""
    query = f"""
        SELECT DISTINCT ON (g.user_id) g.user_id, g.topic_id, g.target_level, g.target_date::text AS target_date
        FROM interest_goal g WHERE g.user_id IN ({population.users_sql()})
        ORDER BY g.user_id, g.priority DESC, g.target_date NULLS LAST, g.topic_id
    """
    dtype = {"user_id": str, "topic_id": str, "target_level": "float64", "target_date": str}
    frame = copy_out_csv(connection, query, population.params(), dtype)
    frame["target_date"] = pd.to_datetime(frame["target_date"]).dt.date
    return frame


def read_adaptive_answers(connection: Connection, population: ReportPopulation) -> pd.DataFrame:
    """Questions each covered user answered in adaptive sessions during the week (cat_events rows
    answered on the UTC days week_start..week_end; the (user_id, answered_at) partial index).
    Columns: user_id, answers (int); users without any are absent."""
    query = f"""
        SELECT c.user_id, count(*) AS answers FROM cat_events c
        WHERE c.answered_at >= :week_start AND c.answered_at < :end
              AND c.user_id IN ({population.users_sql()})
        GROUP BY c.user_id
    """
    params = population.params(end=population.week_start + timedelta(days=7))
    return copy_out_csv(connection, query, params, {"user_id": str, "answers": "int64"})


ARTIFACT_COLUMNS = ("user_id", "format", "url", "bytes", "sha256", "generated_at")


def upsert_report_artifacts(connection: Connection, week_start: date, artifacts: pd.DataFrame) -> int:
    """Insert or replace the report_artifacts rows of ``week_start`` (one per user and format).

    ``artifacts`` columns: user_id, format, url, bytes, sha256, generated_at (UTC). Returns the
    number of rows written.
    """
    if artifacts.empty:
        return 0
    staging_table(
        connection,
        "staging_report_artifacts",
        "(user_id text, format text, url text, bytes bigint, sha256 text, generated_at timestamptz)",
    )
    copy_frame(connection, "staging_report_artifacts", artifacts[list(ARTIFACT_COLUMNS)])
    result = connection.execute(
        text(
            """
            INSERT INTO report_artifacts (user_id, week_start, format, url, bytes, sha256, generated_at)
            SELECT user_id, :week_start, format, url, bytes, sha256, generated_at FROM staging_report_artifacts
            ON CONFLICT (user_id, week_start, format) DO UPDATE SET
                url = EXCLUDED.url, bytes = EXCLUDED.bytes, sha256 = EXCLUDED.sha256,
                generated_at = EXCLUDED.generated_at
            """
        ),
        {"week_start": week_start},
    )
    return int(result.rowcount or 0)


def read_artifact_urls(connection: Connection, week_start: date) -> set[str]:
    """The url of every report_artifacts row of ``week_start``."""
    rows = connection.execute(
        text("SELECT url FROM report_artifacts WHERE week_start = :week_start"), {"week_start": week_start}
    )
    return {str(url) for (url,) in rows}
