"""Timing a job's phases (read, compute, write, …) for its log line and its metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Phases(dict[str, float]):
    """Seconds per phase name, filled by ``with phases.time("read"): …`` (repeats add up)."""

    @contextmanager
    def time(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self[name] = self.get(name, 0.0) + time.perf_counter() - started

    def line(self) -> str:
        """e.g. ``read=2.1s, compute=0.8s, write=0.4s``."""
        return ", ".join(f"{name}={seconds:.1f}s" for name, seconds in self.items())

    def metrics(self) -> dict[str, float]:
        """``{"phase_read_seconds": 2.1, …}`` for JobResult.metrics."""
        return {f"phase_{name}_seconds": seconds for name, seconds in self.items()}
