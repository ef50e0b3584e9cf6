"""SIGKILL of each job at named points before and after its commit; two runs of a job at once.

State before a kill: the platform's exam results, no job output. After a kill before the commit:
the job's tables unchanged, its job_runs row still says running until `dreamseed runs` or the
next run finds its lock free and marks it abandoned. After a kill after the commit: the job's
rows are there, the row is marked abandoned the same way. Either way the re-run succeeds and
leaves the state a complete run leaves (a further run changes nothing).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from tests.faults.harness import DAY, data_state, load_platform, run_statuses, start_job

from dreamseed.cli.main import cli
from dreamseed.runtime.registry import load_job
from dreamseed.runtime.runner import EXIT_LOCKED, EXIT_OK, execute
from dreamseed.settings import Settings

pytestmark = [pytest.mark.faults, pytest.mark.slow]

# (job, point, whether the job's data is committed at that point)
KILL_POINTS = [
    ("mirt-calibrate", "start", False),
    ("mirt-calibrate", "write", False),
    ("mirt-calibrate", "write:done", True),
    ("aggregate-features-daily", "write", False),
    ("aggregate-features-daily", "committed", True),
    ("compute-daily-kpis", "write", False),
    ("compute-daily-kpis", "committed", True),
    ("detect-inactivity", "start", False),
    ("detect-inactivity", "committed", True),
]


@pytest.fixture
def platform(engine: Engine) -> Engine:
    load_platform(engine)
    return engine


def environment(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"DATABASE_URL": database_url, "DREAMSEED_HOME": str(tmp_path / "home")}


def prepare(job: str, engine: Engine, settings: Settings) -> None:
    """The jobs upstream of ``job`` have run (their output is the state before)."""
    order = ["mirt-calibrate", "aggregate-features-daily", "compute-daily-kpis", "detect-inactivity"]
    for upstream in order[: order.index(job)]:
        assert execute(load_job(upstream), settings, engine, run_date=DAY) == EXIT_OK


def runs_listing(cli_env: dict[str, str]) -> str:
    result = CliRunner().invoke(cli, ["runs"], env=cli_env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(("job", "point", "committed"), KILL_POINTS)
def test_a_job_killed_at_a_point_is_abandoned_and_repaired_by_the_next_run(
    platform: Engine,
    settings: Settings,
    database_url: str,
    tmp_path: Path,
    cli_env: dict[str, str],
    job: str,
    point: str,
    committed: bool,
) -> None:
    prepare(job, platform, settings)
    before = data_state(platform)
    killed = start_job(job, environment(database_url, tmp_path), tmp_path, pause_at=point, action="kill")
    code, output = killed.finish()
    assert code == -9, output
    assert run_statuses(platform, job) == ["running"]
    assert (data_state(platform) != before) == committed

    listing = runs_listing(cli_env)
    assert "abandoned" in listing
    assert "process died" in listing
    assert run_statuses(platform, job) == ["abandoned"]

    assert execute(load_job(job), settings, platform, run_date=DAY) == EXIT_OK
    repaired = data_state(platform)
    assert repaired != before
    assert execute(load_job(job), settings, platform, run_date=DAY) == EXIT_OK
    assert data_state(platform) == repaired
    assert run_statuses(platform, job) == ["abandoned", "succeeded", "succeeded"]


def test_the_next_run_marks_a_killed_run_abandoned_without_dreamseed_runs(
    platform: Engine, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    killed = start_job(
        "aggregate-features-daily", environment(database_url, tmp_path), tmp_path, "write", "kill"
    )
    assert killed.finish()[0] == -9
    assert run_statuses(platform) == ["running"]
    assert execute(load_job("aggregate-features-daily"), settings, platform, run_date=DAY) == EXIT_OK
    assert run_statuses(platform) == ["abandoned", "succeeded"]


def test_two_runs_at_once_the_second_exits_locked_and_the_first_stays_running(
    platform: Engine, settings: Settings, database_url: str, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    """State before: no job_runs. While the first run is paused, a second one exits 75 without a
    row, and `dreamseed runs` leaves the live first run running. Once it is killed, it is abandoned
    and a re-run succeeds."""
    first = start_job("compute-daily-kpis", environment(database_url, tmp_path), tmp_path, "start")
    try:
        assert first.wait_for_point() == "start"
        assert execute(load_job("compute-daily-kpis"), settings, platform, run_date=DAY) == EXIT_LOCKED
        assert "running" in runs_listing(cli_env)
        assert run_statuses(platform) == ["running"]
    finally:
        first.kill()
    assert "abandoned" in runs_listing(cli_env)
    assert execute(load_job("compute-daily-kpis"), settings, platform, run_date=DAY) == EXIT_OK
    assert run_statuses(platform) == ["abandoned", "succeeded"]
