"""Sharded runs: N shards together write exactly what one unsharded run writes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, text
from tests.factories import load, steady_learner

from dreamseed.jobs.registry import load_job
from dreamseed.jobs.runner import EXIT_OK, execute
from dreamseed.jobs.shard import Shard, user_bucket
from dreamseed.settings import Settings

DAY = date(2026, 11, 20)
TABLES = {
    "aggregate-features-daily": "SELECT user_id, topic_id, date, attempts, correct, rt_median, improvement "
    "FROM features_topic_daily ORDER BY 1, 2, 3",
    "compute-daily-kpis": "SELECT user_id, week_start, kpis - 'as_of' FROM weekly_kpi ORDER BY 1, 2",
    "detect-inactivity": "SELECT user_id, week_start, kpis FROM weekly_kpi ORDER BY 1, 2",
}


def rows(engine: Engine, query: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


def clear(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("TRUNCATE features_topic_daily, weekly_kpi, ability_estimates, user_inactivity")
        )


@pytest.mark.parametrize("job_name", list(TABLES))
def test_three_shards_equal_one_run(engine: Engine, settings: Settings, job_name: str) -> None:
    lines = []
    for n in range(12):
        # Some users stop early so detect-inactivity has work too.
        lines += steady_learner(f"u{n:03d}", "2026-10-01", 50 if n % 3 else 36)
    load(engine, lines)
    assert len({user_bucket(f"u{n:03d}", 3) for n in range(12)}) == 3
    job = load_job(job_name)
    assert execute(job, settings, engine, run_date=DAY) == EXIT_OK
    whole = rows(engine, TABLES[job_name])
    assert whole
    clear(engine)
    for index in range(3):
        assert execute(job, settings, engine, run_date=DAY, shard=Shard(index, 3)) == EXIT_OK
    assert rows(engine, TABLES[job_name]) == whole


def test_python_and_sql_buckets_agree(engine: Engine) -> None:
    users = [f"user-{n}" for n in range(50)] + ["한국어", "u000123"]
    with engine.connect() as connection:
        buckets = connection.execute(
            text(
                "SELECT u, (('x' || substr(md5(u), 1, 8))::bit(32)::bigint % 7) FROM unnest(CAST(:u AS text[])) u"
            ),
            {"u": users},
        ).all()
    assert {u: int(b) for u, b in buckets} == {u: user_bucket(u, 7) for u in users}
