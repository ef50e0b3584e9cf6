"""Timing a job's phases (read, compute, write, …) for its log line and its metrics, and the named
points where the fault tests stop a job.

`checkpoint(name)` is a no-op unless ``DREAMSEED_TEST_PAUSE_AT`` names that point (a comma-separated
list may name several). Then the process first touches the file ``DREAMSEED_TEST_PAUSE_MARKER`` (when
set, so a test knows the job got there), and ``DREAMSEED_TEST_PAUSE_ACTION`` says what it does:
``sleep`` (default; for ``DREAMSEED_TEST_PAUSE_SECONDS``, default 3600, so the test can kill the job,
its database or its object store at that point) or ``kill`` (SIGKILL itself). The points:

- ``start``: the job_runs row says running, nothing of the job's own has been written;
- ``<phase>`` and ``<phase>:done``: entering and leaving a timed phase (e.g. ``write``, ``write:done``:
  the write transaction of mirt-calibrate and aggregate-features-daily has committed);
- ``committed``: the job returned (its data is committed), the job_runs row is not finished yet;
- ``report-chunk``: generate-weekly-report recorded the artifacts of one chunk of reports (its
  worker pool is running).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PAUSE_AT = "DREAMSEED_TEST_PAUSE_AT"
PAUSE_ACTION = "DREAMSEED_TEST_PAUSE_ACTION"
PAUSE_SECONDS = "DREAMSEED_TEST_PAUSE_SECONDS"
PAUSE_MARKER = "DREAMSEED_TEST_PAUSE_MARKER"


def checkpoint(name: str) -> None:
    """A named point of a job run where a fault test may pause or kill it (see the module docstring)."""
    wanted = os.environ.get(PAUSE_AT)
    if not wanted or name not in {part.strip() for part in wanted.split(",")}:
        return
    marker = os.environ.get(PAUSE_MARKER)
    if marker:
        Path(marker).write_text(f"{name} {os.getpid()}\n")
    if os.environ.get(PAUSE_ACTION, "sleep") == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(float(os.environ.get(PAUSE_SECONDS, "3600")))


class Phases(dict[str, float]):
    """Seconds per phase name, filled by ``with phases.time("read"): …`` (repeats add up)."""

    @contextmanager
    def time(self, name: str) -> Iterator[None]:
        checkpoint(name)
        started = time.perf_counter()
        try:
            yield
        finally:
            self[name] = self.get(name, 0.0) + time.perf_counter() - started
        checkpoint(f"{name}:done")

    def line(self) -> str:
        """e.g. ``read=2.1s, compute=0.8s, write=0.4s``."""
        return ", ".join(f"{name}={seconds:.1f}s" for name, seconds in self.items())

    def metrics(self) -> dict[str, float]:
        """``{"phase_read_seconds": 2.1, …}`` for JobResult.metrics."""
        return {f"phase_{name}_seconds": seconds for name, seconds in self.items()}
