"""generate-weekly-report killed mid-run: its pool's workers die with it, and files and
report_artifacts rows agree after the next run.

State before: 30 users with a weekly_kpi row, no files, no report_artifacts rows. The run is paused
right after it recorded its first chunk (workers still rendering), then SIGKILLed: within a couple
of seconds none of its workers remains; the files on disk are the recorded ones plus those of the
chunks in flight. The re-run (even one restricted to a single --user) removes the unrecorded files,
so files == rows; a full re-run records every user.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from tests.faults.harness import alive, children_of, run_statuses, start_job

from dreamseed.runtime.registry import load_job
from dreamseed.runtime.runner import EXIT_OK, execute
from dreamseed.settings import Settings

pytestmark = [pytest.mark.faults, pytest.mark.slow]

WEEK = date(2026, 11, 16)
SUNDAY = date(2026, 11, 22)
USERS = [f"u{n:02d}" for n in range(30)]
JOB = "generate-weekly-report"


@pytest.fixture
def week(engine: Engine) -> Engine:
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO weekly_kpi (user_id, week_start, kpis) VALUES (:u, :w, CAST(:k AS jsonb))"),
            [{"u": user, "w": WEEK, "k": json.dumps({"S": 0.2, "A_t": 0.5})} for user in USERS],
        )
    return engine


def stored_files(settings: Settings) -> set[str]:
    root = settings.reports_dir
    return {str(path) for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def artifact_urls(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return {str(url) for (url,) in connection.execute(text("SELECT url FROM report_artifacts"))}


def test_a_killed_report_run_leaves_no_worker_and_the_rerun_matches_files_and_rows(
    week: Engine, settings: Settings, database_url: str, tmp_path: Path
) -> None:
    environment = {"DATABASE_URL": database_url, "DREAMSEED_HOME": str(settings.dreamseed_home)}
    arguments = ("--format", "html", "--workers", "2")
    killed = start_job(JOB, environment, tmp_path, "report-chunk", arguments=arguments, day=SUNDAY)
    try:
        assert killed.wait_for_point() == "report-chunk"
        workers = children_of(killed.process.pid)
        assert len(workers) >= 2
        time.sleep(1.0)  # the workers finish the chunks in flight: files without rows
    finally:
        killed.kill()
    deadline = time.monotonic() + 3.0
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if alive(pid)], "report workers outlived their killed parent"

    assert run_statuses(week, JOB) == ["running"]
    recorded = artifact_urls(week)
    assert recorded  # the first chunk's rows were committed with its files
    assert recorded < stored_files(settings)

    assert (
        execute(
            load_job(JOB),
            settings,
            week,
            run_date=SUNDAY,
            options={"user": ("u00",), "report_format": "html"},
        )
        == EXIT_OK
    )
    assert run_statuses(week, JOB) == ["abandoned", "succeeded"]
    assert stored_files(settings) == artifact_urls(week)

    assert (
        execute(load_job(JOB), settings, week, run_date=SUNDAY, options={"report_format": "html"}) == EXIT_OK
    )
    assert stored_files(settings) == artifact_urls(week)
    assert len(artifact_urls(week)) == len(USERS)
