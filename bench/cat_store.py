"""What the adaptive service's exclusion, start and exposure reads cost, against a real PostgreSQL.

    nice python -m bench.cat_store [--users 2000] [--sessions 50000] [--calls 300]

On a fresh embedded PostgreSQL server: --users students with 200 exam answers each over 28 days
(attempt_fact) and a stored θ (mirt_ability); one heavy student with 1,000 answers in the last 7
days; --sessions adaptive sessions of 20 items over the last 28 days (cat_events, 90 % answered,
items from a bank of 5,000, popular items more often). Then, in process, p50 / p99 of:
- ``SELECT 1`` (the baseline, same connection, same run);
- the session read (``read_session``, 20 rows; what next-item already did before this round);
- the new per-call reads of next-item: ``read_stored_theta`` (first call of a session) and
  ``read_recently_answered`` (7 days; a typical and the heavy student);
- ``read_exposure`` for one console page (50 items) and for the whole bank (the CLI);
- ``read_adaptive_answers`` for the whole population of one week (the report job's bulk read).
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from bench._support import machine, markdown_table, scratch_database
from sqlalchemy import Connection, Engine, text

from dreamseed.storage import cat_store
from dreamseed.storage import reports as report_storage
from dreamseed.storage.frames import copy_rows

BANK = 5000
NOW = datetime.now(UTC)


def populate(engine: Engine, users: int, sessions: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    with engine.begin() as connection:
        copy_rows(
            connection,
            "COPY attempt_fact (exam_result_id, question_index, user_id, item_id, correct, response_time_ms, "
            "hints, completed_at, session_id) FROM STDIN",
            _attempts(rng, users),
        )
        copy_rows(
            connection,
            "COPY mirt_ability (user_id, version, theta, se, model, run_id, fitted_at) FROM STDIN",
            ((f"user{u}", "v1", float(rng.normal()), 0.3, "3PL", "bench", NOW) for u in range(users)),
        )
        copy_rows(
            connection,
            "COPY weekly_kpi (user_id, week_start, kpis) FROM STDIN",
            ((f"user{u}", _monday(), "{}") for u in range(users)),
        )
        copy_rows(
            connection,
            "COPY cat_events (user_id, session_id, item_id, position, policy, reason, theta_before, se_before, "
            "version, served_at, correct, answered_at) FROM STDIN",
            _events(rng, users, sessions),
        )
        connection.execute(text("ANALYZE"))


def _monday() -> date:
    today = NOW.date()
    return today - timedelta(days=today.weekday())


def _attempts(rng: np.random.Generator, users: int) -> Any:
    for u in range(users):
        n = 1000 if u == 1 else 200
        days = rng.uniform(0, 7 if u == 1 else 28, n)
        result = uuid.uuid4()
        for k in range(n):
            yield (result, k, f"user{u}", int(rng.integers(BANK)), True, 1000, 0,
                   NOW - timedelta(days=float(days[k])), "exam")  # fmt: skip


def _events(rng: np.random.Generator, users: int, sessions: int) -> Any:
    popularity = 1.0 / np.arange(1, BANK + 1) ** 0.8
    popularity /= popularity.sum()
    for s in range(sessions):
        user = f"user{int(rng.integers(users))}"
        start = NOW - timedelta(days=float(rng.uniform(0, 28)))
        items = rng.choice(BANK, 20, replace=False, p=popularity)
        for position, item in enumerate(items):
            served = start + timedelta(seconds=30 * position)
            answered = None if rng.random() < 0.1 else served + timedelta(seconds=20)
            yield (user, f"s{s}", str(item), position, "test", "bench", 0.0, 1.0, "v1", served,
                   None if answered is None else True, answered)  # fmt: skip


def timed(call: Callable[[], object], calls: int) -> tuple[float, float]:
    seconds = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    p50, p99 = np.percentile(np.array(seconds) * 1000, [50, 99])
    return float(p50), float(p99)


def measurements(connection: Connection, calls: int) -> list[tuple[str, Callable[[], object], int]]:
    since7 = NOW - timedelta(days=7)
    since28 = NOW - timedelta(days=28)
    session = connection.execute(text("SELECT user_id, session_id FROM cat_events LIMIT 1")).one()
    page = [str(i) for i in range(50)]
    population = report_storage.ReportPopulation(_monday())
    return [
        ("SELECT 1 (baseline)", lambda: connection.execute(text("SELECT 1")).one(), calls),
        ("session read (20 rows, before this round)", lambda: cat_store.read_session(connection, *session), calls),
        ("stored θ (first call of a session)", lambda: cat_store.read_stored_theta(connection, "user5", "v1"), calls),
        ("answered in 7 days: typical student", lambda: cat_store.read_recently_answered(connection, "user5", since7, "x"), calls),
        ("answered in 7 days: 1,000 exam answers", lambda: cat_store.read_recently_answered(connection, "user1", since7, "x"), calls),
        ("exposure of one console page (50 items, 28 days)", lambda: cat_store.read_exposure(connection, since28, NOW, None, page), 5),
        ("exposure of the whole bank (CLI, 28 days)", lambda: cat_store.read_exposure(connection, since28, NOW, "v1"), 5),
        ("report job: adaptive answers of the week, all users", lambda: report_storage.read_adaptive_answers(connection, population), 5),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--sessions", type=int, default=50_000)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    with scratch_database() as engine:
        started = time.perf_counter()
        populate(engine, args.users, args.sessions)
        print(f"loaded in {time.perf_counter() - started:.0f} s: {args.users:,} users, {args.users * 200:,} attempts, "
              f"{args.sessions * 20:,} cat_events rows")  # fmt: skip
        rows = []
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for name, call, calls in measurements(connection, args.calls):
                call()  # warm
                p50, p99 = timed(call, calls)
                rows.append([name, f"{p50:.2f}", f"{p99:.2f}", str(calls)])
            baseline = float(rows[0][1])
            for row in rows:
                row.append(f"{float(row[1]) / baseline:.1f}×")
    print(machine())
    print(markdown_table(["read", "p50 (ms)", "p99 (ms)", "calls", "p50 ÷ SELECT 1"], rows))


if __name__ == "__main__":
    main()
