"""Sharded runs: N shards together write exactly what one unsharded run writes."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import Engine, text
from tests.factories import load, steady_learner

from dreamseed.runtime.kpi_parts import user_parts
from dreamseed.runtime.registry import load_job
from dreamseed.runtime.runner import EXIT_OK, execute
from dreamseed.settings import Settings
from dreamseed.storage.activity import UserRange
from dreamseed.storage.shard import Shard, user_bucket

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


def load_twelve_learners(engine: Engine) -> None:
    lines = []
    for n in range(12):
        # Some users stop early so detect-inactivity has work too.
        lines += steady_learner(f"u{n:03d}", "2026-10-01", 50 if n % 3 else 36)
    load(engine, lines)
    assert len({user_bucket(f"u{n:03d}", 3) for n in range(12)}) == 3


@pytest.mark.parametrize("job_name", list(TABLES))
def test_three_shards_equal_one_run(engine: Engine, settings: Settings, job_name: str) -> None:
    load_twelve_learners(engine)
    job = load_job(job_name)
    assert execute(job, settings, engine, run_date=DAY) == EXIT_OK
    whole = rows(engine, TABLES[job_name])
    assert whole
    clear(engine)
    for index in range(3):
        assert execute(job, settings, engine, run_date=DAY, shard=Shard(index, 3)) == EXIT_OK
    assert rows(engine, TABLES[job_name]) == whole


@pytest.mark.parametrize("job_name", ["compute-daily-kpis", "detect-inactivity"])
def test_a_run_in_parts_equals_one_run(
    engine: Engine, settings: Settings, job_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """KPI_BATCH_ANSWERS=50: the 12 users (dozens of answers each) are read and computed a few
    at a time."""
    load_twelve_learners(engine)
    job = load_job(job_name)
    expected = []
    for shard in (Shard.whole(), Shard(1, 2)):
        assert execute(job, settings, engine, run_date=DAY, shard=shard) == EXIT_OK
        expected.append(rows(engine, TABLES[job_name]))
        clear(engine)
    in_parts = settings.model_copy(update={"kpi_batch_answers": 50})
    capsys.readouterr()
    for shard, whole in zip((Shard.whole(), Shard(1, 2)), expected, strict=True):
        assert execute(job, in_parts, engine, run_date=DAY, shard=shard) == EXIT_OK
        if shard.is_whole:  # (shard 1/2 has a single inactive user)
            assert re.search(r"users in \d+ parts \(KPI_BATCH_ANSWERS=50\)", capsys.readouterr().out)
        assert rows(engine, TABLES[job_name]) == whole
        clear(engine)


def test_user_parts_are_consecutive_runs_with_their_range() -> None:
    users = [f"user-{n:04d}" for n in range(1000)]
    parts = user_parts(users, 7)
    assert len(parts) == 7
    assert [u for _, members in parts for u in members] == users
    assert max(len(members) for _, members in parts) == 143
    assert all((r.first, r.last) == (members[0], members[-1]) for r, members in parts)
    assert user_parts(["a", "b"], 1) == [(UserRange("a", "b"), ["a", "b"])]
    assert user_parts(["a"], 8) == [(UserRange("a", "a"), ["a"])]
