"""SQL of aggregate-features-daily: per (user, topic, day) aggregates in one statement, one upsert."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection, text

from dreamseed.storage.frames import copy_frame, read_frame, staging_table
from dreamseed.storage.shard import Shard, sql_filter

FEATURE_COLUMNS = [
    "user_id",
    "topic_id",
    "date",
    "attempts",
    "correct",
    "avg_time_ms",
    "rt_median",
    "hints",
    "theta_estimate",
    "theta_sd",
    "last_seen_at",
]


def daily_topic_aggregates(
    connection: Connection, since: date, anchor: date, shard: Shard, include_theta: bool
) -> pd.DataFrame:
    """One row per (user_id, topic_id, date) with attempts in [since, anchor] (UTC days).

    theta_estimate/theta_sd: the latest per-topic θ (and its SE) fitted by the end of that day,
    else the user's latest overall θ by then; null when neither exists or include_theta is false.
    A question without a topic is aggregated under topic_id ''.
    """
    theta = (
        """
        LEFT JOIN LATERAL (
            SELECT h.theta, h.se FROM student_topic_theta_history h
            WHERE h.user_id = d.user_id AND h.topic_id = d.topic_id AND h.fitted_at < d.date + 1
            ORDER BY h.fitted_at DESC LIMIT 1
        ) topic_theta ON true
        LEFT JOIN LATERAL (
            SELECT h.theta, h.se FROM mirt_ability_history h
            WHERE h.user_id = d.user_id AND h.fitted_at < d.date + 1
            ORDER BY h.fitted_at DESC LIMIT 1
        ) user_theta ON true
        """
        if include_theta
        else "LEFT JOIN LATERAL (SELECT NULL::float8 AS theta, NULL::float8 AS se) topic_theta ON true "
        "LEFT JOIN LATERAL (SELECT NULL::float8 AS theta, NULL::float8 AS se) user_theta ON true"
    )
    shard_clause = "" if shard.is_whole else f"AND {sql_filter('a.user_id')}"
    query = f"""
        WITH daily AS (
            SELECT a.user_id, COALESCE(a.topic_id, '') AS topic_id, (a.completed_at AT TIME ZONE 'UTC')::date AS date,
                   count(*) AS attempts,
                   count(*) FILTER (WHERE a.correct) AS correct,
                   round(avg(a.response_time_ms))::integer AS avg_time_ms,
                   round(percentile_cont(0.5) WITHIN GROUP (ORDER BY a.response_time_ms))::integer AS rt_median,
                   count(*) FILTER (WHERE a.hints > 0) AS hints,
                   max(a.completed_at) AS last_seen_at
            FROM attempt_fact a
            WHERE a.completed_at >= :since AND a.completed_at < :until {shard_clause}
            GROUP BY 1, 2, 3
        )
        SELECT d.user_id, d.topic_id, d.date, d.attempts, d.correct, d.avg_time_ms, d.rt_median, d.hints,
               COALESCE(topic_theta.theta, user_theta.theta) AS theta_estimate,
               CASE WHEN topic_theta.theta IS NOT NULL THEN topic_theta.se ELSE user_theta.se END AS theta_sd,
               d.last_seen_at
        FROM daily d {theta}
        ORDER BY d.user_id, d.topic_id, d.date
    """
    params = {
        "since": since,
        "until": anchor + timedelta(days=1),
        "shard_count": shard.count,
        "shard_index": shard.index,
    }
    return read_frame(connection, query, params)


def upsert_features(connection: Connection, features: pd.DataFrame) -> int:
    """Upsert rows on (user_id, topic_id, date); rows whose values did not change are left alone."""
    staging_table(connection, "staging_features", "(LIKE features_topic_daily INCLUDING DEFAULTS)")
    columns = [*FEATURE_COLUMNS, "improvement"]
    copy_frame(connection, "staging_features", features[columns])
    result = connection.execute(
        text(f"""
        INSERT INTO features_topic_daily ({", ".join(columns)}, computed_at)
        SELECT {", ".join(columns)}, now() FROM staging_features
        ON CONFLICT (user_id, topic_id, date) DO UPDATE SET
            {", ".join(f"{c} = EXCLUDED.{c}" for c in columns[3:])}, computed_at = now()
        WHERE ({", ".join(f"features_topic_daily.{c}" for c in columns[3:])})
              IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in columns[3:])})
    """)
    )
    return int(result.rowcount or 0)
