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
    rows = ", ".join(f"('{name}', {_kpi(name, 'w')})" for name in KPI_NAMES)
    return f"{rows}, ('theta', t.theta)"


def _bounds_case(column: str, index: int) -> str:
    cases = " ".join(f"WHEN '{name}' THEN {bounds[index]}" for name, bounds in METRIC_RANGES.items())
    return f"(CASE {column} {cases} END)"


_KEYS = """
    CASE WHEN GROUPING(org_id) = 1 THEN '*' ELSE COALESCE(org_id::text, 'none') END AS org_key,
    CASE WHEN GROUPING(goal_topic) = 1 THEN '*' ELSE COALESCE(goal_topic, 'none') END AS goal_key"""
_SETS = """GROUPING SETS ((week_start, metric), (org_id, week_start, metric), (goal_topic, week_start, metric),
                       (org_id, goal_topic, week_start, metric))"""

COHORT = f"""
WITH weeks AS (
    SELECT w.user_id, w.week_start, w.kpis, s.org_id, s.goal_topic FROM weekly_kpi w
    JOIN console_student s USING (user_id)
    WHERE w.week_start > CAST(:week AS date) - :span AND w.week_start <= CAST(:week AS date)
), thetas AS (
    SELECT DISTINCT ON (h.user_id, date_trunc('week', h.fitted_at AT TIME ZONE 'UTC'))
           h.user_id, (date_trunc('week', h.fitted_at AT TIME ZONE 'UTC'))::date AS week_start, h.theta
    FROM mirt_ability_history h
    WHERE h.fitted_at >= CAST(:week AS date) - :span AND h.fitted_at < CAST(:end AS timestamptz)
    ORDER BY h.user_id, date_trunc('week', h.fitted_at AT TIME ZONE 'UTC'), h.fitted_at DESC
), values AS (
    SELECT w.week_start, w.org_id, w.goal_topic, m.metric, m.value
    FROM weeks w LEFT JOIN thetas t ON t.user_id = w.user_id AND t.week_start = w.week_start
    CROSS JOIN LATERAL (VALUES {_metric_values()}) AS m(metric, value)
    WHERE m.value IS NOT NULL AND m.value <> 'NaN'::float8
    UNION ALL
    SELECT w.week_start, w.org_id, w.goal_topic, c.metric, 1.0
    FROM weeks w CROSS JOIN LATERAL (VALUES
        ('active', COALESCE(w.kpis->>'inactive', 'false') <> 'true'
                   AND COALESCE({_kpi("days_since_last", "w")}, 0) < 7),
        ('inactive', COALESCE(w.kpis->>'inactive', 'false') = 'true'),
        ('high_risk', {_kpi("S", "w")} >= 0.7),
        ('students', true)) AS c(metric, flag)
    WHERE c.flag
), stats AS (
    SELECT {_KEYS}, week_start, metric, count(*) AS n, avg(value) AS mean,
           percentile_cont(ARRAY[0.1, 0.25, 0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY value) AS q
    FROM values GROUP BY {_SETS}
), buckets AS (
    SELECT {_KEYS}, week_start, metric,
           width_bucket(value, {_bounds_case("metric", 0)}, {_bounds_case("metric", 1)}, {HISTOGRAM_BINS})
               AS bucket, count(*) AS n
    FROM values WHERE metric IN ({", ".join(f"'{m}'" for m in METRIC_RANGES)})
    GROUP BY {_SETS}, width_bucket(value, {_bounds_case("metric", 0)}, {_bounds_case("metric", 1)},
                                    {HISTOGRAM_BINS})
), bins AS (
    SELECT org_key, goal_key, week_start, metric, jsonb_agg(jsonb_build_array(bucket, n) ORDER BY bucket) AS bins
    FROM buckets GROUP BY org_key, goal_key, week_start, metric
)
SELECT s.org_key, s.goal_key, s.week_start, s.metric, s.n, s.mean, s.q[1], s.q[2], s.q[3], s.q[4], s.q[5],
       COALESCE(b.bins, '[]'::jsonb)
FROM stats s LEFT JOIN bins b USING (org_key, goal_key, week_start, metric)
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
           CASE WHEN anchor AND abs(delta_b) > 1e-6 THEN 'anchor_moved' END
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
