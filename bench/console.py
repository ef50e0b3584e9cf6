"""Console latency at 10⁵ students: p50/p95 of each page, chart and JSON endpoint next to GET /healthz.

    python -m bench.console [--students 100000] [--weeks 8] [--items 5000] [--requests 200]

On a fresh embedded PostgreSQL server, the tables the console reads are filled set-based with
synthetic values (generate_series, not the daily chain): weekly_kpi (students × weeks),
mirt_ability_history (students × 2 per week), student_topic_theta, exam_results (2 sessions per
student), report_artifacts, mirt_item_params(+history), job_runs, mirt_fit_meta, ingest_quarantine;
then console_student and console_item are written directly and console_cohort by refresh-console's
own SQL (timed). Starts `dreamseed serve`, signs in as an admin and a teacher of one org (of 50), and
times --requests sequential requests per endpoint over one keep-alive connection, with random
students and items (so the chart cache rarely helps). Goal: p95 < 300 ms per page; CSV of 10⁴
students < 1 s.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import subprocess
import sys
import time
from datetime import date, timedelta

import httpx
import numpy as np
from bench._support import machine, markdown_table, scratch_database
from sqlalchemy import Engine, text

from dreamseed.console.users import ConsoleUser, hash_password, users_json
from dreamseed.storage import console_refresh

AS_OF = date(2026, 11, 29)
ORGS = 50


def fill(engine: Engine, students: int, weeks: int, items: int) -> dict[str, float]:
    week = AS_OF - timedelta(days=AS_OF.weekday())
    p = {"n": students, "weeks": weeks, "items": items, "week": week, "end": AS_OF + timedelta(days=1)}
    statements = {
        "weekly_kpi": """INSERT INTO weekly_kpi (user_id, week_start, kpis)
            SELECT 'u' || lpad(i::text, 7, '0'), CAST(:week AS date) - 7 * w,
                   jsonb_build_object('I_t', random() * 2 - 1, 'E_t', random(), 'R_t', random(),
                                      'A_t', random(), 'P', random(), 'S', s,
                                      'S_band', CASE WHEN s < 0.3 THEN 'low' WHEN s < 0.7 THEN 'medium' ELSE 'high' END,
                                      'days_since_last', floor(random() * 20), 'inactive', random() < 0.1)
            FROM generate_series(1, :n) i, generate_series(0, :weeks - 1) w, LATERAL (SELECT random() AS s) r""",
        "mirt_ability_history": """INSERT INTO mirt_ability_history (user_id, run_id, theta, se, fitted_at)
            SELECT 'u' || lpad(i::text, 7, '0'), 'run-' || d, random() * 4 - 2, 0.2 + random() * 0.3,
                   CAST(:end AS timestamptz) - d * interval '3.5 days'
            FROM generate_series(1, :n) i, generate_series(1, 2 * :weeks) d""",
        "student_topic_theta": """INSERT INTO student_topic_theta (user_id, topic_id, theta, se, model)
            SELECT 'u' || lpad(i::text, 7, '0'), 'topic' || t, random() * 4 - 2, 0.4, '2PL'
            FROM generate_series(1, :n) i, generate_series(1, 3) t""",
        "exam_results": """INSERT INTO exam_results (session_id, user_id, exam_id, result_json, org_id, created_at)
            SELECT 's' || i || '-' || k, 'u' || lpad(i::text, 7, '0'), 1, '{"questions": []}', i % 50 + 1,
                   CAST(:end AS timestamptz) - k * interval '3 days'
            FROM generate_series(1, :n) i, generate_series(1, 2) k""",
        "report_artifacts": """INSERT INTO report_artifacts (user_id, week_start, format, url)
            SELECT 'u' || lpad(i::text, 7, '0'), CAST(:week AS date) - 7, 'html',
                   '/nonexistent/' || i || '/report.html' FROM generate_series(1, :n) i""",
        "mirt_item_params_history": """INSERT INTO mirt_item_params_history (run_id, item_id, model, params, fitted_at)
            SELECT 'run-' || d, j::text, '2PL', jsonb_build_object('a', 0.5 + random(), 'b', random() * 4 - 2, 'c', 0),
                   CAST(:end AS timestamptz) - d * interval '1 day'
            FROM generate_series(1, :items) j, generate_series(1, 30) d""",
        "mirt_item_params": """INSERT INTO mirt_item_params (item_id, model, params, run_id, fitted_at)
            SELECT item_id, model, params, run_id, fitted_at FROM mirt_item_params_history WHERE run_id = 'run-1'""",
        "job_runs": """INSERT INTO job_runs (run_id, job, run_date, status, started_at, duration_ms, processed, failed)
            SELECT 'r' || j || '-' || d, j, CAST(:week AS date) - d, 'succeeded',
                   CAST(:end AS timestamptz) - d * interval '1 day', 1000 + d, :n, 0
            FROM unnest(ARRAY['mirt-calibrate', 'aggregate-features-daily', 'compute-daily-kpis',
                              'detect-inactivity', 'refresh-console']) j, generate_series(1, 365) d""",
        "mirt_fit_meta": """INSERT INTO mirt_fit_meta (run_id, metrics, fitted_at)
            SELECT 'run-' || d, jsonb_build_object('loglik', -1e6 - d, 'iterations', 20, 'converged', true),
                   CAST(:end AS timestamptz) - d * interval '1 day' FROM generate_series(1, 365) d""",
        "ingest_quarantine": """INSERT INTO ingest_quarantine (kind, source, line_no, reason, raw, fingerprint)
            SELECT 'exam_result', 'exam_results.jsonl', i, 'reason ' || (i % 7), '{"x": 1}', 'f' || i
            FROM generate_series(1, 5000) i""",
        "console_student": """INSERT INTO console_student (user_id, org_id, week_start, last_seen_at, days_since_last,
                   sessions_28d, theta, theta_se, theta_change, i_t, e_t, r_t, a_t, a_t_change, p, s, s_band,
                   goal_topic, inactive, report_week, report_url)
            SELECT w.user_id, substr(w.user_id, 2)::int % 50 + 1, w.week_start, CAST(:end AS timestamptz) - interval '2 days',
                   (w.kpis->>'days_since_last')::int, 8, random() * 4 - 2, 0.3, random() - 0.5,
                   (w.kpis->>'I_t')::float8, (w.kpis->>'E_t')::float8, (w.kpis->>'R_t')::float8,
                   (w.kpis->>'A_t')::float8, random() * 0.4 - 0.2, (w.kpis->>'P')::float8, (w.kpis->>'S')::float8,
                   w.kpis->>'S_band', 'topic' || (substr(w.user_id, 2)::int % 8), (w.kpis->>'inactive')::boolean,
                   CAST(:week AS date) - 7, '/nonexistent'
            FROM weekly_kpi w WHERE w.week_start = CAST(:week AS date)""",
        "console_item": """INSERT INTO console_item (item_id, topic_id, model, a, b, c, n_answers, infit, outfit,
                   delta_b, flags, run_id)
            SELECT item_id, 'topic' || (item_id::int % 8), model, (params->>'a')::float8, (params->>'b')::float8, 0,
                   3000, 0.7 + random() * 0.6, 0.6 + random() * 0.8, random() * 0.4 - 0.2, '{}', run_id
            FROM mirt_item_params""",
    }
    seconds: dict[str, float] = {}
    with engine.begin() as connection:
        for table, sql in statements.items():
            started = time.perf_counter()
            connection.execute(text(sql), p)
            seconds[table] = time.perf_counter() - started
        parameters = console_refresh.refresh_parameters(AS_OF, "v1", 30)
        started = time.perf_counter()
        connection.execute(
            text(f"INSERT INTO console_cohort ({console_refresh.COHORT_COLUMNS}) {console_refresh.COHORT}"),
            parameters,
        )
        seconds["console_cohort (refresh-console SQL)"] = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(database_url: str, port: int, users: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", "CONSOLE_USERS": users,
           "CONSOLE_SECRET_KEY": "bench"}  # fmt: skip
    command = [
        sys.executable,
        "-m",
        "dreamseed.cli.main",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("dreamseed serve did not start")


def signed_in(base: str, user: str, password: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/console/login").text)
    assert token is not None
    answer = client.post(
        "/console/login",
        data={"csrf": token.group(1), "user": user, "password": password},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client


def measure(client: httpx.Client, paths: list[str]) -> np.ndarray:
    seconds = []
    for path in paths:
        started = time.perf_counter()
        answer = client.get(path)
        seconds.append(time.perf_counter() - started)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:200])
    return np.asarray(seconds)


def endpoints(students: int, items: int, requests: int) -> dict[str, list[str]]:
    rng = random.Random(7)

    def user() -> str:
        return f"u{rng.randint(1, students):07d}"

    def repeat(make: object) -> list[str]:
        return [make() for _ in range(requests)]  # type: ignore[operator]

    return {
        "GET /healthz (baseline)": ["/healthz"] * requests,
        "cohort overview /console/": repeat(lambda: f"/console/?org={rng.randint(1, ORGS)}"),
        "cohort overview, all orgs": ["/console/"] * requests,
        "at-risk list, page 1": ["/console/at-risk"] * requests,
        "at-risk list, random page, org filter": repeat(
            lambda: f"/console/at-risk?org={rng.randint(1, ORGS)}&page={rng.randint(1, 40)}"
        ),
        "at-risk list sorted by Δθ": repeat(
            lambda: f"/console/at-risk?sort=theta&page={rng.randint(1, 100)}"
        ),
        "student page": repeat(lambda: f"/console/students/{user()}"),
        "item bank": repeat(lambda: f"/console/items?topic=topic{rng.randint(0, 7)}&sort=misfit"),
        "item page": repeat(lambda: f"/console/items/{rng.randint(1, items)}"),
        "pipeline health": ["/console/health"] * requests,
        "chart: student θ trend (SVG)": repeat(lambda: f"/console/charts/students/{user()}/theta.svg"),
        "chart: cohort S distribution (SVG)": repeat(
            lambda: f"/console/charts/cohort/S/distribution.svg?org={rng.randint(1, ORGS)}"
        ),
        "chart: item curves (SVG)": repeat(
            lambda: f"/console/charts/items/{rng.randint(1, items)}/curves.svg"
        ),
        "API at-risk (JSON)": repeat(lambda: f"/console/api/v1/at-risk?page={rng.randint(1, 100)}"),
        "API student (JSON)": repeat(lambda: f"/console/api/v1/students/{user()}"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    users = users_json(
        {
            "admin": ConsoleUser("admin", "admin", frozenset(), hash_password("bench-admin")),
            "kim": ConsoleUser("kim", "teacher", frozenset({7}), hash_password("bench-teacher")),
        }
    )
    with scratch_database() as engine:
        seconds = fill(engine, args.students, args.weeks, args.items)
        print("fill (s): " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
        port = free_port()
        server = start_server(engine.url.render_as_string(hide_password=False), port, users)
        base = f"http://127.0.0.1:{port}"
        try:
            rows = []
            admin, kim = signed_in(base, "admin", "bench-admin"), signed_in(base, "kim", "bench-teacher")
            try:
                plan = endpoints(args.students, args.items, args.requests)
                measure(admin, ["/console/", "/console/at-risk"] * 5)  # warm-up
                for name, paths in plan.items():
                    rows.append(_row(name, measure(admin, paths)))
                rows.append(
                    _row("teacher (1 org of 50): at-risk", measure(kim, ["/console/at-risk"] * args.requests))
                )
                csv = measure(admin, ["/console/at-risk.csv?limit=10000"] * 20)
                rows.append(_row("CSV of 10⁴ at-risk students (20 requests)", csv))
            finally:
                admin.close()
                kim.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"\n{args.students:,} students, {args.items:,} items; {args.requests} sequential requests per row; {machine()}\n"
    )
    print(markdown_table(["endpoint", "p50 ms", "p95 ms", "max ms"], rows))


def _row(name: str, seconds: np.ndarray) -> list[str]:
    p50, p95 = np.percentile(seconds, [50, 95]) * 1000
    return [name, f"{p50:.1f}", f"{p95:.1f}", f"{seconds.max() * 1000:.1f}"]


if __name__ == "__main__":
    main()
