"""What the fault tests share: a platform small enough for seconds-long runs, a job run in a child
process that stops at a named point (`dreamseed.runtime.phases.checkpoint`), and the database state
before and after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, text
from tests.factories import load, steady_learner, table_fingerprints

from dreamseed.runtime.registry import JOB_MODULES

DAY = date(2026, 11, 20)
JOBS_OF_THE_DAY = ("mirt-calibrate", "aggregate-features-daily", "compute-daily-kpis", "detect-inactivity")
MARKER_TIMEOUT_S = 60.0


def load_platform(engine: Engine, users: int = 6) -> None:
    """``users`` learners with a month of daily sessions up to DAY (rising and falling accuracy), and
    one who stopped coming two weeks before DAY (inactive)."""
    lines: list[str] = steady_learner("gone", "2026-10-21", 15)
    for n in range(users):
        rising = n % 2 == 0
        lines += steady_learner(
            f"u{n}",
            "2026-10-21",
            30,
            accuracy_from=0.3 if rising else 0.9,
            accuracy_to=0.85 if rising else 0.35,
        )
    load(engine, lines)


def data_state(engine: Engine) -> dict[str, str]:
    """Every table's contents but job_runs (what a job writes)."""
    return {table: value for table, value in table_fingerprints(engine).items() if table != "job_runs"}


def run_statuses(engine: Engine, job: str | None = None) -> list[str]:
    """Statuses of the job_runs rows (of ``job``), oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT status FROM job_runs WHERE CAST(:job AS text) IS NULL OR job = :job ORDER BY id"),
            {"job": job},
        )
        return [str(status) for (status,) in rows]


@dataclass
class JobProcess:
    """A job run in a child process (``python -m dreamseed.jobs.<module>``), paused or killed at a point."""

    process: subprocess.Popen[str]
    marker: Path

    def wait_for_point(self) -> str:
        """Wait until the child reached its pause point; returns the point's name."""
        deadline = time.monotonic() + MARKER_TIMEOUT_S
        while not self.marker.exists() or not self.marker.read_text().strip():
            if self.process.poll() is not None and not self.marker.exists():
                output = self.process.communicate()[0]
                raise AssertionError(f"the job ended ({self.process.returncode}) before its point:\n{output}")
            if time.monotonic() > deadline:
                self.kill()
                raise AssertionError("the job did not reach its point in time")
            time.sleep(0.05)
        return self.marker.read_text().split()[0]

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.communicate(timeout=30)

    def finish(self, timeout: float = 120.0) -> tuple[int, str]:
        """Exit code and output (stdout and stderr together) once the child ends."""
        output = self.process.communicate(timeout=timeout)[0]
        return self.process.returncode, output


def start_job(
    job: str,
    environment: dict[str, str],
    tmp_path: Path,
    pause_at: str | None = None,
    action: str = "sleep",
    seconds: float = 3600,
    arguments: tuple[str, ...] = (),
    day: date = DAY,
) -> JobProcess:
    """Start ``job`` for ``day`` in a child process with ``environment`` (DATABASE_URL, …)."""
    marker = tmp_path / f"{job}-{time.monotonic_ns()}.point"
    env = {**os.environ, **environment, "DREAMSEED_TEST_PAUSE_MARKER": str(marker)}
    if pause_at:
        env |= {
            "DREAMSEED_TEST_PAUSE_AT": pause_at,
            "DREAMSEED_TEST_PAUSE_ACTION": action,
            "DREAMSEED_TEST_PAUSE_SECONDS": str(seconds),
        }
    command = [sys.executable, "-m", JOB_MODULES[job], "--date", day.isoformat(), *arguments]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    return JobProcess(process, marker)


def children_of(pid: int) -> list[int]:
    """The pids of ``pid``'s living children (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
