"""SVG charts under /console/charts/ (the pages show them as images), with the pages' access rules.

Rendered charts are kept in a small in-memory cache keyed by their inputs, so a chart whose data
did not change is not drawn again.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dreamseed.console import charts, views
from dreamseed.console.access import allowed_org, engine_of, page_viewer, require_admin
from dreamseed.console.labels import labels_for
from dreamseed.console.pages import ConsolePageRoute, _int_or_none
from dreamseed.console.rendering import language
from dreamseed.console.users import Viewer
from dreamseed.storage import console as store
from dreamseed.storage.console_refresh import KPI_NAMES, METRIC_RANGES

router = APIRouter(prefix="/console/charts", include_in_schema=False, route_class=ConsolePageRoute)
PageViewer = Annotated[Viewer, Depends(page_viewer)]
CACHE_SIZE = 512


class ChartCache:
    def __init__(self, size: int) -> None:
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str, draw: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        body = draw()
        with self._lock:
            self._items[key] = body
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return body


CACHE = ChartCache(CACHE_SIZE)


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


def _svg(body: bytes) -> Response:
    return Response(body, media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=60"})


def _labels(request: Request, title: str) -> dict[str, str]:
    t = labels_for(language(request))
    return {"title": t.get(title, title), "no_data": t["no_data"], "icc": t["icc"],
            "information": t["information"], "seconds": t["seconds"]}  # fmt: skip


def _theta_chart(request: Request, viewer: Viewer, user_id: str) -> bytes:
    with engine_of(request).connect() as connection:
        views.visible_student(connection, viewer, user_id)
        history = store.read_theta_history(connection, user_id)
    labels = _labels(request, "theta_trend")
    times = [h["fitted_at"] for h in history]
    theta = [h["theta"] for h in history]
    se = [h["se"] for h in history]
    return CACHE.get(
        _key("theta", times, theta, se, labels), lambda: charts.theta_trend(times, theta, se, labels)
    )


def _kpi_chart(request: Request, viewer: Viewer, user_id: str) -> bytes:
    with engine_of(request).connect() as connection:
        views.visible_student(connection, viewer, user_id)
        weeks = store.read_student_weeks(connection, user_id)
    labels = _labels(request, "kpis_by_week")
    days = [w["week_start"] for w in weeks]
    series = {name: [_number(w["kpis"].get(name)) for w in weeks] for name in KPI_NAMES}
    return CACHE.get(_key("kpis", days, series, labels), lambda: charts.weekly_lines(days, series, labels))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


@router.get("/students/{user_id}/theta.svg")
async def student_theta(request: Request, viewer: PageViewer, user_id: str) -> Response:
    return _svg(await run_in_threadpool(_theta_chart, request, viewer, user_id))


@router.get("/students/{user_id}/kpis.svg")
async def student_kpis(request: Request, viewer: PageViewer, user_id: str) -> Response:
    return _svg(await run_in_threadpool(_kpi_chart, request, viewer, user_id))


def _cohort_chart(
    request: Request, viewer: Viewer, metric: str, kind: str, org: int | None, goal: str | None
) -> bytes:
    if metric not in METRIC_RANGES:
        raise HTTPException(404, "no such metric")
    allowed_org(viewer, org)
    org_key, goal_key = views.cohort_keys(viewer, org, goal)
    with engine_of(request).connect() as connection:
        rows = [r for r in store.read_cohort(connection, org_key, goal_key) if r["metric"] == metric]
    t = labels_for(language(request))
    title = f"{t.get(metric, metric)} — {t['distribution' if kind == 'distribution' else 'trend']}"
    labels = _labels(request, title)
    if kind == "distribution":
        bins = [tuple(b) for b in rows[-1]["bins"]] if rows else []
        low, high = METRIC_RANGES[metric]
        return CACHE.get(
            _key("dist", metric, bins, labels), lambda: charts.distribution(bins, low, high, labels)
        )
    weeks: list[date] = [r["week_start"] for r in rows]
    quantiles = {q: [r[q] for r in rows] for q in ("p25", "p50", "p75")}
    return CACHE.get(
        _key("trend", metric, weeks, quantiles, labels),
        lambda: charts.quantile_trend(weeks, quantiles["p25"], quantiles["p50"], quantiles["p75"], labels),
    )


@router.get("/cohort/{metric}/{kind}.svg")
async def cohort_chart(
    request: Request,
    viewer: PageViewer,
    metric: str,
    kind: str,
    org: str | None = None,
    goal: str | None = None,
) -> Response:
    if kind not in ("distribution", "trend"):
        raise HTTPException(404, "no such chart")
    return _svg(
        await run_in_threadpool(_cohort_chart, request, viewer, metric, kind, _int_or_none(org), goal)
    )


def _item_chart(request: Request, item_id: str, kind: str) -> bytes:
    with engine_of(request).connect() as connection:
        row = store.read_item(connection, item_id)
        if row is None or row["a"] is None or row["b"] is None:
            raise HTTPException(404, "no such item")
        history = store.read_item_history(connection, item_id) if kind == "history" else []
    if kind == "curves":
        labels = _labels(request, f"{item_id}: {labels_for(language(request))['icc']}")
        a, b, c = float(row["a"]), float(row["b"]), float(row["c"] or 0.0)
        return CACHE.get(_key("icc", a, b, c, labels), lambda: charts.item_curves(a, b, c, labels))
    labels = _labels(request, "history")
    times: list[datetime] = [h["fitted_at"] for h in history]
    series = {name: [h[name] for h in history] for name in ("a", "b", "c")}
    return CACHE.get(
        _key("hist", times, series, labels), lambda: charts.parameter_history(times, series, labels)
    )


@router.get("/items/{item_id}/{kind}.svg")
async def item_chart(request: Request, viewer: PageViewer, item_id: str, kind: str) -> Response:
    if kind not in ("curves", "history"):
        raise HTTPException(404, "no such chart")
    return _svg(await run_in_threadpool(_item_chart, request, item_id, kind))


def _information_chart(request: Request, topic: str | None) -> bytes:
    with engine_of(request).connect() as connection:
        rows = store.read_topic_items(connection, topic)
    parameters = [(float(r["a"]), float(r["b"]), float(r["c"] or 0.0)) for r in rows]
    labels = _labels(request, f"{labels_for(language(request))['test_information']}: {topic or '*'}")
    return CACHE.get(_key("tif", parameters, labels), lambda: charts.test_information(parameters, labels))


@router.get("/test-information.svg")
async def information_chart(request: Request, viewer: PageViewer, topic: str | None = None) -> Response:
    return _svg(await run_in_threadpool(_information_chart, request, topic or None))


def _jobs_chart(request: Request) -> bytes:
    with engine_of(request).connect() as connection:
        runs = store.read_job_runs(connection, views.JOBS)
    jobs: dict[str, tuple[list[datetime], list[float], list[bool]]] = {}
    for run in runs:
        times, seconds, ok = jobs.setdefault(run["job"], ([], [], []))
        times.append(run["started_at"])
        seconds.append((run["duration_ms"] or 0) / 1000)
        ok.append(run["status"] == "succeeded")
    labels = _labels(request, "job_runs")
    return CACHE.get(_key("jobs", jobs, labels), lambda: charts.job_runs(jobs, labels))


@router.get("/health/jobs.svg")
async def jobs_chart(request: Request, viewer: PageViewer) -> Response:
    require_admin(viewer)
    return _svg(await run_in_threadpool(_jobs_chart, request))
