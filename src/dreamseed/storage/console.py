"""The console's reads: precomputed tables (console_*) and indexed per-student or per-item lookups.

Nothing here scans the answers: the at-risk list and counts use console_student's (org_id, s)
indexes; a student's weeks, θ history, topics, sessions and reports are primary-key or user_id index
lookups; item history uses mirt_item_params_history (item_id, fitted_at). Every read that lists
students takes ``orgs`` (None = every org) and filters on it in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, text

STUDENT_SORTS = {
    "risk": "s",
    "days": "days_since_last",
    "engagement": "a_t_change",
    "theta": "theta_change",
    "goal": "p",
    "last_seen": "last_seen_at",
    "user": "user_id",
}
ITEM_SORTS = {
    "item": "item_id",
    "a": "a",
    "b": "b",
    "c": "c",
    "answers": "n_answers",
    "infit": "infit",
    "outfit": "outfit",
    "drift": "abs(delta_b)",
    "misfit": "greatest(abs(COALESCE(infit, 1) - 1), abs(COALESCE(outfit, 1) - 1))",
}
ITEM_FLAGS = ("low_discrimination", "extreme_difficulty", "misfit", "drift", "anchor_moved", "dif")


@dataclass(frozen=True)
class StudentFilter:
    """Which students a list shows: ``orgs`` None = all orgs (admin); empty = none."""

    orgs: frozenset[int] | None
    org: int | None = None
    goal: str | None = None
    band: str | None = None
    inactive: bool | None = None

    def where(self) -> tuple[str, dict[str, Any]]:
        clauses, values = ["true"], dict[str, Any]()
        if self.orgs is not None:
            clauses.append("org_id = ANY(:orgs)")
            values["orgs"] = sorted(self.orgs)
        if self.org is not None:
            clauses.append("org_id = :org")
            values["org"] = self.org
        if self.goal:
            clauses.append("goal_topic = :goal")
            values["goal"] = self.goal
        if self.band:
            clauses.append("s_band = :band")
            values["band"] = self.band
        if self.inactive is not None:
            clauses.append("inactive = :inactive")
            values["inactive"] = self.inactive
        return " AND ".join(clauses), values


def _order(sorts: dict[str, str], sort: str, descending: bool, tie: str) -> str:
    column = sorts.get(sort, next(iter(sorts.values())))
    direction = "DESC NULLS LAST" if descending else "ASC NULLS LAST"
    return f"{column} {direction}, {tie}"


def read_students(
    connection: Connection, where: StudentFilter, sort: str, descending: bool, limit: int, offset: int
) -> list[RowMapping]:
    clause, values = where.where()
    order = _order(STUDENT_SORTS, sort, descending, "user_id")
    query = f"SELECT * FROM console_student WHERE {clause} ORDER BY {order} LIMIT :limit OFFSET :offset"
    return list(connection.execute(text(query), {**values, "limit": limit, "offset": offset}).mappings())


def count_students(connection: Connection, where: StudentFilter) -> int:
    clause, values = where.where()
    return int(
        connection.execute(text(f"SELECT count(*) FROM console_student WHERE {clause}"), values).scalar_one()
    )


def read_student(connection: Connection, user_id: str) -> RowMapping | None:
    return (
        connection.execute(text("SELECT * FROM console_student WHERE user_id = :u"), {"u": user_id})
        .mappings()
        .first()
    )


def read_student_weeks(connection: Connection, user_id: str, weeks: int = 26) -> list[RowMapping]:
    query = """SELECT week_start, kpis FROM weekly_kpi WHERE user_id = :u
               ORDER BY week_start DESC LIMIT :n"""
    return list(reversed(list(connection.execute(text(query), {"u": user_id, "n": weeks}).mappings())))


def read_theta_history(connection: Connection, user_id: str, points: int = 400) -> list[RowMapping]:
    query = """SELECT fitted_at, theta, se, source, run_id FROM mirt_ability_history WHERE user_id = :u
               ORDER BY fitted_at DESC LIMIT :n"""
    return list(reversed(list(connection.execute(text(query), {"u": user_id, "n": points}).mappings())))


def read_topic_thetas(connection: Connection, user_id: str) -> list[RowMapping]:
    query = (
        "SELECT topic_id, theta, se, fitted_at FROM student_topic_theta WHERE user_id = :u ORDER BY topic_id"
    )
    return list(connection.execute(text(query), {"u": user_id}).mappings())


def read_recent_sessions(connection: Connection, user_id: str, limit: int = 15) -> list[RowMapping]:
    query = """SELECT session_id, exam_id, status, org_id, COALESCE(updated_at, created_at) AS at,
                      jsonb_array_length(CASE WHEN jsonb_typeof(result_json->'questions') = 'array'
                                              THEN result_json->'questions' ELSE '[]' END) AS questions,
                      score_raw, score_scaled
               FROM exam_results WHERE user_id = :u ORDER BY COALESCE(updated_at, created_at) DESC LIMIT :n"""
    return list(connection.execute(text(query), {"u": user_id, "n": limit}).mappings())


def read_reports(connection: Connection, user_id: str) -> list[RowMapping]:
    query = """SELECT week_start, format, url, bytes, generated_at FROM report_artifacts WHERE user_id = :u
               ORDER BY week_start DESC, format LIMIT 60"""
    return list(connection.execute(text(query), {"u": user_id}).mappings())


def read_report(
    connection: Connection, user_id: str, week_start: Any, report_format: str
) -> RowMapping | None:
    query = """SELECT url, format FROM report_artifacts
               WHERE user_id = :u AND week_start = :w AND format = :f"""
    params = {"u": user_id, "w": week_start, "f": report_format}
    return connection.execute(text(query), params).mappings().first()


def read_cohort(connection: Connection, org_key: str, goal_key: str) -> list[RowMapping]:
    query = (
        """SELECT * FROM console_cohort WHERE org_key = :o AND goal_key = :g ORDER BY week_start, metric"""
    )
    return list(connection.execute(text(query), {"o": org_key, "g": goal_key}).mappings())


def read_cohort_keys(connection: Connection) -> tuple[list[str], list[str]]:
    """The org keys and goal keys the cohort table holds (besides '*')."""
    rows = connection.execute(
        text(
            """SELECT DISTINCT org_key, goal_key FROM console_cohort
               WHERE (org_key = '*') <> (goal_key = '*') AND metric = 'students'"""
        )
    ).all()
    orgs = sorted({o for o, _g in rows if o != "*"}, key=lambda k: (len(k), k))
    goals = sorted({g for _o, g in rows if g != "*"})
    return orgs, goals


def read_items(
    connection: Connection,
    topic: str | None,
    flag: str | None,
    sort: str,
    descending: bool,
    limit: int,
    offset: int,
) -> tuple[list[RowMapping], int]:
    clauses, values = ["true"], dict[str, Any]()
    if topic:
        clauses.append("topic_id = :topic")
        values["topic"] = topic
    if flag == "anchor":
        clauses.append("anchor")
    elif flag:
        clauses.append(":flag = ANY(flags)")
        values["flag"] = flag
    where = " AND ".join(clauses)
    order = _order(ITEM_SORTS, sort, descending, "item_id")
    rows = connection.execute(
        text(f"SELECT * FROM console_item WHERE {where} ORDER BY {order} LIMIT :limit OFFSET :offset"),
        {**values, "limit": limit, "offset": offset},
    ).mappings()
    total = connection.execute(text(f"SELECT count(*) FROM console_item WHERE {where}"), values).scalar_one()
    return list(rows), int(total)


def read_item_topics(connection: Connection) -> list[str]:
    query = "SELECT DISTINCT topic_id FROM console_item WHERE topic_id IS NOT NULL ORDER BY topic_id"
    return [row[0] for row in connection.execute(text(query))]


def read_item(connection: Connection, item_id: str) -> RowMapping | None:
    query = "SELECT * FROM console_item WHERE item_id = :i"
    return connection.execute(text(query), {"i": item_id}).mappings().first()


def read_item_history(connection: Connection, item_id: str, runs: int = 60) -> list[RowMapping]:
    query = """SELECT run_id, fitted_at, model, (params->>'a')::float8 AS a, (params->>'b')::float8 AS b,
                      (params->>'c')::float8 AS c, params->>'status' AS status
               FROM mirt_item_params_history WHERE item_id = :i ORDER BY fitted_at DESC LIMIT :n"""
    return list(reversed(list(connection.execute(text(query), {"i": item_id, "n": runs}).mappings())))


def read_topic_items(connection: Connection, topic: str | None) -> list[RowMapping]:
    """a, b, c of every item of a topic (all items when None): the test information curve's input."""
    query = "SELECT item_id, a, b, c FROM console_item WHERE a IS NOT NULL AND b IS NOT NULL"
    if topic:
        return list(connection.execute(text(query + " AND topic_id = :t"), {"t": topic}).mappings())
    return list(connection.execute(text(query)).mappings())


def read_job_runs(connection: Connection, jobs: Sequence[str], per_job: int = 30) -> list[RowMapping]:
    query = """SELECT r.* FROM unnest(CAST(:jobs AS text[])) AS j(job) CROSS JOIN LATERAL (
                   SELECT job, run_id, run_date, status, started_at, finished_at, processed, failed,
                          duration_ms, error
                   FROM job_runs WHERE job = j.job ORDER BY started_at DESC LIMIT :n) r
               ORDER BY r.job, r.started_at"""
    return list(connection.execute(text(query), {"jobs": list(jobs), "n": per_job}).mappings())


def read_quarantine_counts(connection: Connection) -> list[RowMapping]:
    query = "SELECT kind, reason, n, last_at FROM console_quarantine ORDER BY n DESC, kind, reason"
    return list(connection.execute(text(query)).mappings())


def read_quarantine_samples(connection: Connection, limit: int = 20) -> list[RowMapping]:
    query = """SELECT id, kind, source, line_no, session_id, reason, left(raw, 200) AS raw, created_at
               FROM ingest_quarantine ORDER BY id DESC LIMIT :n"""
    return list(connection.execute(text(query), {"n": limit}).mappings())


def read_calibration_runs(connection: Connection, limit: int = 40) -> list[RowMapping]:
    query = """SELECT run_id, fitted_at, model_spec->>'model' AS model,
                      (metrics->>'loglik')::float8 AS loglik, (metrics->>'iterations')::int AS iterations,
                      (metrics->>'converged')::boolean AS converged, (metrics->>'n_obs')::int AS n_obs,
                      (metrics->>'n_items')::int AS n_items, (metrics->>'n_persons')::int AS n_persons,
                      metrics->'linking_constants' AS linking_constants,
                      (metrics->'drift'->>'n_flagged')::int AS drift_flagged
               FROM mirt_fit_meta ORDER BY fitted_at DESC LIMIT :n"""
    return list(reversed(list(connection.execute(text(query), {"n": limit}).mappings())))
