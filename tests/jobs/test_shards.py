"""Sharded runs: N shards together write exactly what one unsharded run writes."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import Engine, text
from tests.factories import load, steady_learner

from dreamseed.jobs.compute_daily_kpis import user_parts
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


@pytest.mark.parametrize("shard", [Shard.whole(), Shard(2, 3)])
def test_the_parts_of_a_shard_split_it_exactly(shard: Shard) -> None:
    users = [f"user-{n}" for n in range(300)]
    parts = shard.parts(4)
    assert [p.count for p in parts] == [4 * shard.count] * 4
    for user in users:
        assert sum(p.contains(user) for p in parts) == shard.contains(user)
    assert shard.parts(1) == (shard,)
    with pytest.raises(ValueError, match="at least 1 part"):
        shard.parts(0)


def test_user_parts_split_the_users_by_hash() -> None:
    users = [f"user-{n}" for n in range(1000) if Shard(0, 2).contains(f"user-{n}")]
    parts = user_parts(Shard(0, 2), users, 5)
    assert len(parts) == 5
    assert sorted(u for _, members in parts for u in members) == sorted(users)
    assert all(part.contains(u) for part, members in parts for u in members)
    assert max(len(members) for _, members in parts) < 1.5 * len(users) / 5
    assert user_parts(Shard.whole(), ["a", "b"], 1) == [(Shard.whole(), ["a", "b"])]
    assert len(user_parts(Shard.whole(), ["a"], 8)) == 1  # empty parts are left out
