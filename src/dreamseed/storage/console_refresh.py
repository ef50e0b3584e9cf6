"""SQL that fills the console's precomputed tables (`dreamseed run refresh-console`), set-based.

Each table is rebuilt by one INSERT … SELECT after a DELETE, in the caller's transaction, so readers
see either the previous or the new contents. `row_counts` runs the same SELECTs counted (dry run).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, text

COHORT_WEEKS = 12
HISTOGRAM_BINS = 20
METRIC_RANGES = {
    "I_t": (-1.0, 1.0),
    "E_t": (0.0, 1.0),
    "R_t": (0.0, 1.0),
    "A_t": (0.0, 1.0),
    "P": (0.0, 1.0),
    "S": (0.0, 1.0),
    "theta": (-4.0, 4.0),
}
KPI_NAMES = ("I_t", "E_t", "R_t", "A_t", "P", "S")

STUDENT_COLUMNS = (
    "user_id, org_id, week_start, last_seen_at, days_since_last, sessions_28d, theta, theta_se, "
    "theta_change, i_t, e_t, r_t, a_t, a_t_change, p, s, s_band, goal_topic, goal_target, goal_date, "
    "inactive, report_week, report_url"
)


def _kpi(name: str, alias: str = "l") -> str:
    """A KPI of a weekly_kpi.kpis document as float8 (NULL for null, NaN or a non-number)."""
    value = f"{alias}.kpis->'{name}'"
    return f"(CASE WHEN jsonb_typeof({value}) = 'number' THEN ({value})::float8 END)"


STUDENTS = f"""
WITH latest AS (
    SELECT DISTINCT ON (user_id) user_id, week_start, kpis FROM weekly_kpi
    WHERE week_start <= CAST(:week AS date) ORDER BY user_id, week_start DESC
), previous AS (
    SELECT w.user_id, {_kpi("A_t", "w")} AS a_t FROM weekly_kpi w
    JOIN latest l ON l.user_id = w.user_id AND w.week_start = l.week_start - 7
), activity AS (
    SELECT user_id, max(at) AS last_seen_at,
           count(*) FILTER (WHERE at >= CAST(:end AS timestamptz) - interval '28 days') AS sessions_28d,
           (array_agg(org_id ORDER BY at DESC) FILTER (WHERE org_id IS NOT NULL))[1] AS org_id
    FROM (SELECT user_id, org_id, COALESCE(updated_at, created_at) AS at FROM exam_results
          WHERE user_id IS NOT NULL AND COALESCE(updated_at, created_at) < CAST(:end AS timestamptz)) e
    GROUP BY user_id
), theta_now AS (
    SELECT DISTINCT ON (user_id) user_id, theta, se FROM mirt_ability_history
    WHERE fitted_at < CAST(:end AS timestamptz) ORDER BY user_id, fitted_at DESC
), theta_then AS (
    SELECT DISTINCT ON (user_id) user_id, theta FROM mirt_ability_history
    WHERE fitted_at < CAST(:end AS timestamptz) - interval '28 days' ORDER BY user_id, fitted_at DESC
), goal AS (
    SELECT DISTINCT ON (user_id) user_id, topic_id, target_level, target_date FROM interest_goal
    ORDER BY user_id, priority DESC, target_date NULLS LAST, topic_id
), report AS (
    SELECT DISTINCT ON (user_id) user_id, week_start, url FROM report_artifacts
    WHERE format = 'html' ORDER BY user_id, week_start DESC
)
SELECT l.user_id, a.org_id, l.week_start, a.last_seen_at,
       CAST(:as_of AS date) - (a.last_seen_at AT TIME ZONE 'UTC')::date AS days_since_last,
       COALESCE(a.sessions_28d, 0), tn.theta, tn.se, tn.theta - tt.theta,
       {_kpi("I_t")}, {_kpi("E_t")}, {_kpi("R_t")}, {_kpi("A_t")}, {_kpi("A_t")} - pv.a_t,
       {_kpi("P")}, {_kpi("S")}, l.kpis->>'S_band', g.topic_id, g.target_level, g.target_date,
       COALESCE(l.kpis->>'inactive', 'false') = 'true', r.week_start, r.url
FROM latest l
LEFT JOIN previous pv USING (user_id)
LEFT JOIN activity a USING (user_id)
LEFT JOIN theta_now tn USING (user_id)
LEFT JOIN theta_then tt USING (user_id)
LEFT JOIN goal g USING (user_id)
LEFT JOIN report r USING (user_id)
"""


def _metric_values() -> str:
    """(metric, value, low, high) for each histogram metric of a weekly row `w` (θ from `t`)."""
    values = {name: f"w.{name.lower()}" for name in KPI_NAMES} | {"theta": "t.theta"}
    return ", ".join(
        f"('{name}', {values[name]}, CAST({low} AS float8), CAST({high} AS float8))"
        for name, (low, high) in METRIC_RANGES.items()
    )


def _keys(org: str = "org_id", goal: str = "goal_topic") -> str:
    return f"""
    CASE WHEN GROUPING({org}) = 1 THEN '*' ELSE COALESCE({org}::text, 'none') END AS org_key,
    CASE WHEN GROUPING({goal}) = 1 THEN '*' ELSE COALESCE({goal}, 'none') END AS goal_key"""


def _sets(*extra: str) -> str:
    tail = ", ".join(("week_start", *extra))
    return (
        f"""GROUPING SETS (({tail}), (org_id, {tail}), (goal_topic, {tail}), (org_id, goal_topic, {tail}))"""
    )


_WEEK_KPIS = ", ".join(f"{_kpi(name)} AS {name.lower()}" for name in KPI_NAMES)
FLAGS = ("active", "inactive", "high_risk", "students")

# One pass over the weeks' rows: each KPI read out of its jsonb once, with its histogram bucket. The
# quantiles need the values sorted per grouping set (one GROUPING SETS aggregate); the histograms are
# counted once per (org, goal, week, metric, bucket) and rolled up from those counts, and the flag
# counts (active, inactive, high risk, students) come from one hashed count per week row, so neither
# goes through the sorted aggregate.
COHORT = f"""
WITH thetas AS (
    SELECT DISTINCT ON (h.user_id, date_trunc('week', h.fitted_at AT TIME ZONE 'UTC'))
           h.user_id, (date_trunc('week', h.fitted_at AT TIME ZONE 'UTC'))::date AS week_start, h.theta
    FROM mirt_ability_history h
    WHERE h.fitted_at >= CAST(:week AS date) - :span AND h.fitted_at < CAST(:end AS timestamptz)
    ORDER BY h.user_id, date_trunc('week', h.fitted_at AT TIME ZONE 'UTC'), h.fitted_at DESC
), weeks AS (
    SELECT l.user_id, l.week_start, st.org_id, st.goal_topic, {_WEEK_KPIS},
           COALESCE(l.kpis->>'inactive', 'false') = 'true' AS inactive,
           COALESCE({_kpi("days_since_last")}, 0) < 7 AS recent
    FROM weekly_kpi l JOIN console_student st USING (user_id)
    WHERE l.week_start > CAST(:week AS date) - :span AND l.week_start <= CAST(:week AS date)
), values AS MATERIALIZED (
    SELECT w.week_start, w.org_id, w.goal_topic, m.metric, m.value,
           width_bucket(m.value, m.low, m.high, {HISTOGRAM_BINS}) AS bucket
    FROM weeks w LEFT JOIN thetas t ON t.user_id = w.user_id AND t.week_start = w.week_start
    CROSS JOIN LATERAL (VALUES {_metric_values()}) AS m(metric, value, low, high)
    WHERE m.value IS NOT NULL AND m.value <> 'NaN'::float8
), stats AS (
    SELECT {_keys()}, week_start, metric, count(*) AS n, avg(value) AS mean,
           percentile_cont(ARRAY[0.1, 0.25, 0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY value) AS q
    FROM values GROUP BY {_sets("metric")}
), buckets AS (
    SELECT {_keys()}, week_start, metric, bucket, CAST(sum(n) AS bigint) AS n
    FROM (SELECT org_id, goal_topic, week_start, metric, bucket, count(*) AS n FROM values
          GROUP BY org_id, goal_topic, week_start, metric, bucket) fine
    GROUP BY {_sets("metric", "bucket")}
), bins AS (
    SELECT org_key, goal_key, week_start, metric, jsonb_agg(jsonb_build_array(bucket, n) ORDER BY bucket) AS bins
    FROM buckets GROUP BY org_key, goal_key, week_start, metric
), flag_counts AS (
    SELECT {_keys()}, week_start,
           count(*) FILTER (WHERE NOT inactive AND recent) AS active,
           count(*) FILTER (WHERE inactive) AS inactive,
           count(*) FILTER (WHERE s >= 0.7) AS high_risk,
           count(*) AS students
    FROM weeks GROUP BY {_sets()}
), flags AS (
    SELECT f.org_key, f.goal_key, f.week_start, c.metric, c.n
    FROM flag_counts f
    CROSS JOIN LATERAL (VALUES {", ".join(f"('{flag}', f.{flag})" for flag in FLAGS)}) AS c(metric, n)
    WHERE c.n > 0
)
SELECT s.org_key, s.goal_key, s.week_start, s.metric, s.n, s.mean, s.q[1], s.q[2], s.q[3], s.q[4], s.q[5],
       COALESCE(b.bins, '[]'::jsonb)
FROM stats s LEFT JOIN bins b USING (org_key, goal_key, week_start, metric)
UNION ALL
SELECT org_key, goal_key, week_start, metric, n, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, '[]'::jsonb FROM flags
"""
COHORT_COLUMNS = "org_key, goal_key, week_start, metric, n, mean, p10, p25, p50, p75, p90, bins"


def _param(name: str, alias: str) -> str:
    return f"(CASE WHEN jsonb_typeof({alias}.params->'{name}') = 'number' THEN ({alias}.params->>'{name}')::float8 END)"


ITEMS = f"""
WITH latest AS (
    SELECT item_id, model, params, run_id, fitted_at,
           {_param("a", "p")} AS a, {_param("b", "p")} AS b, COALESCE({_param("c", "p")}, 0) AS c
    FROM mirt_item_params p
), previous AS (
    SELECT DISTINCT ON (h.item_id) h.item_id, h.run_id, {_param("a", "h")} AS a, {_param("b", "h")} AS b
    FROM mirt_item_params_history h JOIN latest l ON l.item_id = h.item_id AND h.run_id <> l.run_id
         AND h.fitted_at <= l.fitted_at
    ORDER BY h.item_id, h.fitted_at DESC
), answers AS (
    SELECT l.item_id, count(*) AS n, avg(f.correct::int) AS p_correct,
           sum((f.correct::int - pr.p) ^ 2) / NULLIF(sum(pr.p * (1 - pr.p)), 0) AS infit,
           avg((f.correct::int - pr.p) ^ 2 / NULLIF(pr.p * (1 - pr.p), 0)) AS outfit
    FROM attempt_fact f
    JOIN latest l ON l.item_id = f.item_id::text
    JOIN mirt_ability m ON m.user_id = f.user_id AND m.version = :version
    CROSS JOIN LATERAL (
        SELECT l.c + (1 - l.c) / (1 + exp(least(50, greatest(-50, -l.a * (m.theta - l.b))))) AS p
    ) pr
    WHERE f.completed_at >= CAST(:end AS timestamptz) - :lookback * interval '1 day'
      AND f.completed_at < CAST(:end AS timestamptz) AND l.a IS NOT NULL AND l.b IS NOT NULL
    GROUP BY l.item_id
), joined AS (
    SELECT l.*, q.topic_id, pv.run_id AS previous_run_id, l.a - pv.a AS delta_a, l.b - pv.b AS delta_b,
           ans.n, ans.p_correct, ans.infit, ans.outfit,
           (COALESCE(q.meta->'tags', '[]'::jsonb) ? 'anchor') OR l.params->>'status' = 'anchor' AS anchor
    FROM latest l
    LEFT JOIN question q ON q.id::text = l.item_id
    LEFT JOIN previous pv USING (item_id)
    LEFT JOIN answers ans USING (item_id)
)
SELECT item_id, topic_id, model, a, b, c, {_param("se_a", "j")}, {_param("se_b", "j")}, {_param("se_c", "j")},
       COALESCE(n, 0), p_correct, infit, outfit, delta_a, delta_b, previous_run_id, anchor,
       array_remove(ARRAY[
           CASE WHEN a < 0.5 THEN 'low_discrimination' END,
           CASE WHEN abs(b) > 3 OR params->>'status' = 'extreme' THEN 'extreme_difficulty' END,
           CASE WHEN n >= 20 AND (infit NOT BETWEEN 0.7 AND 1.3 OR outfit NOT BETWEEN 0.7 AND 1.3)
                THEN 'misfit' END,
           CASE WHEN abs(delta_b) > 0.3 THEN 'drift' END,
           CASE WHEN anchor AND abs(delta_b) > 1e-6 THEN 'anchor_moved' END,
           CASE WHEN params->'dif'->>'flagged' = 'true' THEN 'dif' END
       ], NULL),
       run_id, fitted_at
FROM joined j
"""
ITEM_COLUMNS = (
    "item_id, topic_id, model, a, b, c, se_a, se_b, se_c, n_answers, p_correct, infit, outfit, delta_a, "
    "delta_b, previous_run_id, anchor, flags, run_id, fitted_at"
)

QUARANTINE = "SELECT kind, reason, count(*), max(created_at) FROM ingest_quarantine GROUP BY kind, reason"
QUARANTINE_COLUMNS = "kind, reason, n, last_at"

TABLES: dict[str, tuple[str, str]] = {
    "console_student": (STUDENT_COLUMNS, STUDENTS),
    "console_cohort": (COHORT_COLUMNS, COHORT),
    "console_item": (ITEM_COLUMNS, ITEMS),
    "console_quarantine": (QUARANTINE_COLUMNS, QUARANTINE),
}


def refresh_parameters(as_of: date, version: str, lookback_days: int) -> dict[str, Any]:
    """Bind parameters of the refresh statements for the run date ``as_of``."""
    week = as_of - timedelta(days=as_of.weekday())
    return {
        "as_of": as_of,
        "week": week,
        "end": as_of + timedelta(days=1),
        "span": 7 * COHORT_WEEKS,
        "version": version,
        "lookback": lookback_days,
    }


def rebuild_tables(connection: Connection, parameters: dict[str, Any]) -> dict[str, int]:
    """Replace every console table's rows (console_student first: the cohort reads it)."""
    counts = {}
    for table, (columns, select) in TABLES.items():
        connection.execute(text(f"DELETE FROM {table}"))
        counts[table] = connection.execute(
            text(f"INSERT INTO {table} ({columns}) {select}"), parameters
        ).rowcount
    return counts


def row_counts(connection: Connection, parameters: dict[str, Any]) -> dict[str, int]:
    """How many rows each table would get (reads only; the cohort counted from the stored students)."""
    return {
        table: int(connection.execute(text(f"SELECT count(*) FROM ({select}) s"), parameters).scalar_one())
        for table, (_columns, select) in TABLES.items()
    }
