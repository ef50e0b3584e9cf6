"""The rules every job follows: lock, job_runs, dry run writes nothing, exit codes, atomicity."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, text
from tests.factories import load, steady_learner, table_fingerprints

from dreamseed.jobs import compute_daily_kpis
from dreamseed.jobs.registry import load_job
from dreamseed.jobs.runner import (
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    Job,
    JobContext,
    JobResult,
    execute,
    lock_key,
)
from dreamseed.settings import Settings
from dreamseed.storage import kpis as kpi_storage

DAY = date(2026, 11, 20)


@pytest.fixture
def platform(engine: Engine) -> Engine:
    load(
        engine,
        steady_learner("u1", "2026-10-20", 32)
        + steady_learner("u2", "2026-11-01", 20, accuracy_from=0.9, accuracy_to=0.3),
    )
    return engine


def job_runs(engine: Engine) -> list[tuple[str, str, int | None]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(text("SELECT job, status, processed FROM job_runs ORDER BY id"))
        ]


def test_a_run_is_recorded_in_job_runs(
    platform: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert execute(load_job("compute-daily-kpis"), settings, platform, run_date=DAY) == EXIT_OK
    assert job_runs(platform) == [("compute-daily-kpis", "succeeded", 2)]
    out = capsys.readouterr().out
    assert "[INFO] Computing KPIs for 2 users; week_start=2026-11-16, dry_run=False" in out
    assert "[INFO] Summary: processed_users=2, failed_users=0, week=2026-11-16, duration_ms=" in out


@pytest.mark.parametrize("job_name", ["aggregate-features-daily", "compute-daily-kpis"])
def test_dry_run_writes_nothing_at_all(
    platform: Engine, settings: Settings, job_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = table_fingerprints(platform)
    assert execute(load_job(job_name), settings, platform, run_date=DAY, dry_run=True) == EXIT_OK
    assert table_fingerprints(platform) == before
    assert "[DRY_RUN]" in capsys.readouterr().out


@pytest.mark.parametrize("job_name", ["aggregate-features-daily", "compute-daily-kpis"])
def test_a_second_run_for_the_same_date_changes_nothing(
    platform: Engine, settings: Settings, job_name: str
) -> None:
    execute(load_job(job_name), settings, platform, run_date=DAY)
    before = {k: v for k, v in table_fingerprints(platform).items() if k != "job_runs"}
    execute(load_job(job_name), settings, platform, run_date=DAY)
    after = {k: v for k, v in table_fingerprints(platform).items() if k != "job_runs"}
    assert after == before


def test_a_second_concurrent_run_exits_with_the_lock_code(
    platform: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with platform.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_key("compute-daily-kpis")})
        assert execute(load_job("compute-daily-kpis"), settings, platform, run_date=DAY) == EXIT_LOCKED
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key("compute-daily-kpis")})
    assert "another compute-daily-kpis run is in progress" in capsys.readouterr().out
    assert job_runs(platform) == []
    assert execute(load_job("compute-daily-kpis"), settings, platform, run_date=DAY) == EXIT_OK


def test_a_crash_mid_write_leaves_the_previous_state(
    platform: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*_args: object) -> int:
        raise RuntimeError("killed while writing")

    before = {k: v for k, v in table_fingerprints(platform).items() if k != "job_runs"}
    monkeypatch.setattr(kpi_storage, "upsert_ability_estimates", crash)
    assert execute(load_job("compute-daily-kpis"), settings, platform, run_date=DAY) == EXIT_FAILED
    assert {k: v for k, v in table_fingerprints(platform).items() if k != "job_runs"} == before
    assert job_runs(platform) == [("compute-daily-kpis", "failed", 0)]


def test_entity_failures_give_a_failed_run_and_exit_1(engine: Engine, settings: Settings) -> None:
    job = Job("compute-daily-kpis", "test", lambda _context: JobResult(processed=3, failed=1))
    assert execute(job, settings, engine, run_date=DAY) == EXIT_FAILED
    assert job_runs(engine) == [("compute-daily-kpis", "failed", 3)]


def test_one_failing_user_does_not_stop_the_others() -> None:
    import pandas as pd

    failures: list[str] = []

    def compute(users: list[str]) -> pd.DataFrame:
        if "bad" in users:
            raise ValueError("broken history")
        return pd.DataFrame({"S": [0.1] * len(users)}, index=users)

    result = compute_daily_kpis.isolate_failures(
        ["a", "b", "bad", "c", "d"], compute, lambda user, _error: failures.append(user)
    )
    assert sorted(result.index) == ["a", "b", "c", "d"]
    assert failures == ["bad"]


def test_context_dates_default_to_yesterday(engine: Engine, settings: Settings) -> None:
    seen: list[JobContext] = []
    job = Job("probe", "test", lambda context: seen.append(context) or JobResult(0))
    execute(job, settings, engine, dry_run=True)
    assert seen[0].run_date < date.today()


def test_shards_of_one_job_run_in_parallel_but_not_twice(engine: Engine) -> None:
    from dreamseed.jobs.runner import JobLocked, job_lock
    from dreamseed.jobs.shard import Shard

    with (
        job_lock(engine, "compute-daily-kpis", Shard(0, 2)),
        job_lock(engine, "compute-daily-kpis", Shard(1, 2)),
    ):
        with pytest.raises(JobLocked), job_lock(engine, "compute-daily-kpis", Shard(0, 2)):
            pass
        with pytest.raises(JobLocked), job_lock(engine, "compute-daily-kpis"):
            pass
    with job_lock(engine, "compute-daily-kpis"):
        pass
