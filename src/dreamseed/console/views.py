"""What each console page and JSON endpoint shows, as JSON-ready dicts, with the viewer's scope applied.

A student another org's teacher asks for is "not found" (404), the same as a student who does not
exist, so ids cannot be probed. Lists filter on the viewer's orgs in SQL.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from fastapi import HTTPException
from sqlalchemy import Connection, RowMapping

from dreamseed.console.exposure import with_exposure
from dreamseed.console.users import Viewer
from dreamseed.storage import console as store
from dreamseed.storage.console_refresh import KPI_NAMES, METRIC_RANGES

PER_PAGE = 50
CSV_MAX_ROWS = 100_000
STUDENT_FIELDS = (
    "user_id", "org_id", "week_start", "last_seen_at", "days_since_last", "sessions_28d", "theta", "theta_se",
    "theta_change", "i_t", "e_t", "r_t", "a_t", "a_t_change", "p", "s", "s_band", "goal_topic",
    "goal_target", "goal_date", "inactive", "report_week",
)  # fmt: skip
JOBS = (
    "mirt-calibrate", "aggregate-features-daily", "compute-daily-kpis", "detect-inactivity",
    "generate-weekly-report", "refresh-console",
)  # fmt: skip


def plain(value: Any) -> Any:
    """A JSON-ready value: dates as ISO text, NaN as None."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def reasons(row: RowMapping | dict[str, Any]) -> list[dict[str, Any]]:
    """The at-risk reasons a teacher can act on, strongest first (codes with their numbers)."""
    found: list[dict[str, Any]] = []
    days = row.get("days_since_last")
    if days is not None and days >= 7:
        found.append({"code": "days_since", "n": int(days)})
    drop = row.get("a_t_change")
    if drop is not None and drop <= -0.05:
        found.append({"code": "engagement_drop", "n": round(-drop * 100)})
    change = row.get("theta_change")
    if change is not None and change <= -0.1:
        found.append({"code": "theta_falling", "n": round(-change, 2)})
    p = row.get("p")
    if p is not None and p < 0.5:
        found.append({"code": "goal_unlikely", "n": round(p * 100), "topic": row.get("goal_topic") or "—"})
    return found


def student_json(row: RowMapping) -> dict[str, Any]:
    return {field: plain(row[field]) for field in STUDENT_FIELDS} | {"reasons": reasons(row)}


def student_filter(
    viewer: Viewer, org: int | None, goal: str | None, band: str | None
) -> store.StudentFilter:
    return store.StudentFilter(viewer.orgs, org, goal or None, band or None)


def at_risk(
    connection: Connection,
    viewer: Viewer,
    where: store.StudentFilter,
    sort: str,
    descending: bool,
    page: int,
    per_page: int = PER_PAGE,
) -> dict[str, Any]:
    total = store.count_students(connection, where)
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = store.read_students(connection, where, sort, descending, per_page, (page - 1) * per_page)
    return {
        "total": total,
        "page": page,
        "pages": pages,
        "per_page": per_page,
        "sort": sort if sort in store.STUDENT_SORTS else "risk",
        "descending": descending,
        "students": [student_json(row) for row in rows],
    }


def visible_student(connection: Connection, viewer: Viewer, user_id: str) -> RowMapping:
    row = store.read_student(connection, user_id)
    if row is None or not viewer.sees_org(row["org_id"]):
        raise HTTPException(404, "no such student")
    return row


def student(connection: Connection, viewer: Viewer, user_id: str) -> dict[str, Any]:
    row = visible_student(connection, viewer, user_id)
    weeks = store.read_student_weeks(connection, user_id)
    return {
        "student": student_json(row),
        "weeks": [
            {"week_start": plain(w["week_start"])}
            | {k: plain(w["kpis"].get(k)) for k in (*KPI_NAMES, "S_band")}
            for w in weeks
        ],
        "theta_history": [
            {
                "fitted_at": plain(h["fitted_at"]),
                "theta": h["theta"],
                "se": plain(h["se"]),
                "source": h["source"],
            }
            for h in store.read_theta_history(connection, user_id)
        ],
        "topics": [
            {"topic_id": t["topic_id"], "theta": t["theta"], "se": plain(t["se"])}
            for t in store.read_topic_thetas(connection, user_id)
        ],
        "sessions": [
            {k: plain(v) for k, v in s.items()} for s in store.read_recent_sessions(connection, user_id)
        ],
        "reports": [
            {"week_start": plain(r["week_start"]), "format": r["format"], "bytes": r["bytes"]}
            for r in store.read_reports(connection, user_id)
        ],
    }


def cohort_keys(viewer: Viewer, org: int | None, goal: str | None) -> tuple[str, str]:
    """The console_cohort keys for a viewer's filter: a teacher without an org filter gets their first org."""
    if org is None and viewer.orgs is not None:
        org = min(viewer.orgs)
    return ("*" if org is None else str(org)), (goal or "*")


def cohort(connection: Connection, viewer: Viewer, org: int | None, goal: str | None) -> dict[str, Any]:
    org_key, goal_key = cohort_keys(viewer, org, goal)
    rows = store.read_cohort(connection, org_key, goal_key)
    weeks = sorted({row["week_start"] for row in rows})
    by_metric: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        entry = {"week_start": plain(row["week_start"]), "n": row["n"], "mean": plain(row["mean"])}
        entry |= {q: plain(row[q]) for q in ("p10", "p25", "p50", "p75", "p90")}
        if row["metric"] in METRIC_RANGES:
            entry["bins"] = row["bins"]
        by_metric.setdefault(row["metric"], []).append(entry)
    latest = weeks[-1] if weeks else None
    counts = {
        name: next(
            (e["n"] for e in by_metric.get(name, []) if latest and e["week_start"] == latest.isoformat()), 0
        )
        for name in ("students", "active", "inactive", "high_risk")
    }
    orgs, goals = store.read_cohort_keys(connection)
    if viewer.orgs is not None:
        orgs = [o for o in orgs if o.isdigit() and int(o) in viewer.orgs]
    return {
        "org": org_key,
        "goal": goal_key,
        "week_start": plain(latest),
        "counts": counts,
        "metrics": by_metric,
        "ranges": {name: list(bounds) for name, bounds in METRIC_RANGES.items()},
        "org_choices": orgs,
        "goal_choices": goals,
    }


def item_json(row: RowMapping) -> dict[str, Any]:
    return {k: plain(v) for k, v in row.items()}


def items(
    connection: Connection, topic: str | None, flag: str | None, sort: str, descending: bool, page: int
) -> dict[str, Any]:
    rows, total = store.read_items(
        connection, topic, flag, sort, descending, PER_PAGE, (max(page, 1) - 1) * PER_PAGE
    )
    shown = [item_json(row) for row in rows]
    return {
        "total": total,
        "page": max(page, 1),
        "pages": max(1, math.ceil(total / PER_PAGE)),
        "items": shown,
        "topics": store.read_item_topics(connection),
        "flags": list(store.ITEM_FLAGS),
        "exposure": with_exposure(connection, shown),
    }


def item(connection: Connection, item_id: str) -> dict[str, Any]:
    row = store.read_item(connection, item_id)
    if row is None:
        raise HTTPException(404, "no such item")
    history = store.read_item_history(connection, item_id)
    shown = item_json(row)
    exposure = with_exposure(connection, [shown])
    history_rows = [{k: plain(v) for k, v in h.items()} for h in history]
    return {"item": shown, "history": history_rows, "exposure": exposure}


def health(connection: Connection) -> dict[str, Any]:
    runs = store.read_job_runs(connection, JOBS)
    return {
        "job_runs": [{k: plain(v) for k, v in r.items()} for r in runs],
        "quarantine": [{k: plain(v) for k, v in q.items()} for q in store.read_quarantine_counts(connection)],
        "quarantine_samples": [
            {k: plain(v) for k, v in q.items()} for q in store.read_quarantine_samples(connection)
        ],
        "calibrations": [
            {k: plain(v) for k, v in c.items()} for c in store.read_calibration_runs(connection)
        ],
    }
