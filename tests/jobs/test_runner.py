"""The rules every job follows: lock, job_runs, dry run writes nothing, exit codes, atomicity."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, text
from tests.factories import load, steady_learner, table_fingerprints

from dreamseed.runtime import kpi_parts
from dreamseed.runtime.registry import load_job
from dreamseed.runtime.runner import (
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

    result = kpi_parts.isolate_failures(
        ["a", "b", "bad", "c", "d"], compute, lambda user, _error: failures.append(user)
    )
    assert sorted(result.index) == ["a", "b", "c", "d"]
    assert failures == ["bad"]


def test_context_dates_default_to_yesterday(engine: Engine, settings: Settings) -> None:
    seen: list[JobContext] = []

    def probe(context: JobContext) -> JobResult:
        seen.append(context)
        return JobResult(0)

    job = Job("probe", "test", probe)
    execute(job, settings, engine, dry_run=True)
    assert seen[0].run_date < date.today()


def test_shards_of_one_job_run_in_parallel_but_not_twice(engine: Engine) -> None:
    from dreamseed.runtime.runner import JobLocked, job_lock
    from dreamseed.storage.shard import Shard

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


def insert_running_row(engine: Engine, run_id: str, job: str, shard: str = "0/1") -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO job_runs (run_id, job, run_date, params, status, started_at) "
                "VALUES (:r, :j, :d, CAST(:p AS jsonb), 'running', now() - interval '5 minutes')"
            ),
            {"r": run_id, "j": job, "d": DAY, "p": f'{{"shard": "{shard}"}}'},
        )


def run_rows(engine: Engine) -> dict[str, tuple[str, bool, str | None]]:
    """run_id -> (status, finished_at is set, error)."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT run_id, status, finished_at IS NOT NULL, error FROM job_runs"))
        return {run_id: (status, finished, error) for run_id, status, finished, error in rows}


def test_a_running_row_whose_lock_is_free_is_abandoned_and_a_live_one_is_not(
    engine: Engine, settings: Settings
) -> None:
    from dreamseed.runtime.runner import abandon_dead_runs

    insert_running_row(engine, "dead", "compute-daily-kpis")
    insert_running_row(engine, "dead-shard", "compute-daily-kpis", "1/2")
    insert_running_row(engine, "alive", "mirt-calibrate")
    insert_running_row(engine, "alive-shard", "detect-inactivity", "0/2")
    with engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_key("mirt-calibrate")})
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_key("detect-inactivity#0/2")})
        abandoned = abandon_dead_runs(settings, engine)
        assert sorted(run.run_id for run in abandoned) == ["dead", "dead-shard"]
        rows = run_rows(engine)
        assert rows["dead"] == ("abandoned", True, "process died (lock released while running)")
        assert rows["dead-shard"][0] == "abandoned"
        assert rows["alive"] == ("running", False, None)
        assert rows["alive-shard"] == ("running", False, None)
        holder.execute(text("SELECT pg_advisory_unlock_all()"))
    assert sorted(run.run_id for run in abandon_dead_runs(settings, engine)) == ["alive", "alive-shard"]


def test_the_next_run_of_a_job_marks_its_dead_run_abandoned(
    platform: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    insert_running_row(platform, "killed-run", "compute-daily-kpis")
    assert execute(load_job("compute-daily-kpis"), settings, platform, run_date=DAY) == EXIT_OK
    assert run_rows(platform)["killed-run"][:2] == ("abandoned", True)
    assert "[WARN] run killed-run" in capsys.readouterr().out


def test_a_dry_run_leaves_a_dead_run_as_it_is(engine: Engine, settings: Settings) -> None:
    insert_running_row(engine, "killed-run", "probe")
    job = Job("probe", "test", lambda _context: JobResult(0))
    assert execute(job, settings, engine, run_date=DAY, dry_run=True) == EXIT_OK
    assert run_rows(engine)["killed-run"][0] == "running"


def test_a_database_lost_mid_run_gives_one_fatal_line_and_exit_1(
    engine: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """The job's own session is terminated, as is every other session of the database (the
    lock's included), so recording the failure and releasing the lock fail too: no traceback."""

    def lose_the_database(context: JobContext) -> JobResult:
        with context.engine.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        context.engine.dispose()
        with context.engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        raise AssertionError("unreachable")

    code = execute(Job("probe", "test", lose_the_database), settings, engine, run_date=DAY)
    captured = capsys.readouterr()
    assert code == EXIT_FAILED
    assert "Traceback" not in captured.out + captured.err
    lines = captured.out.strip().splitlines()
    assert lines[-1].startswith("[FATAL] probe failed: OperationalError:"), lines


def test_an_abandoned_run_is_pushed_as_a_failed_run(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the "job failed" alert reads: last_run_success 0 for the job (and its shard's group)."""
    from dreamseed.runtime import metrics
    from dreamseed.runtime.runner import abandon_dead_runs

    pushed: list[tuple[str, dict[str, str], dict[str, float]]] = []

    def push(_url: str, job: str, registry: object, grouping_key: dict[str, str], timeout: float) -> None:
        values = {s.name: s.value for m in registry.collect() for s in m.samples}  # type: ignore[attr-defined]
        pushed.append((job, grouping_key, values))

    monkeypatch.setattr(metrics, "pushadd_to_gateway", push)
    insert_running_row(engine, "killed", "compute-daily-kpis", "1/2")
    abandon_dead_runs(settings.model_copy(update={"pushgateway_url": "http://pushgateway:9091"}), engine)
    [(job, grouping, values)] = pushed
    assert (job, grouping) == ("dreamseed-compute-daily-kpis", {"shard": "1"})
    assert values["dreamseed_job_last_run_success"] == 0
    assert values["dreamseed_job_duration_seconds"] >= 300
