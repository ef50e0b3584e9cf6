"""Where a batch's time goes: seconds per phase, observed in ``dreamseed_stream_batch_seconds{phase}``.

The phases, in the order a batch meets them: ``fetch`` (the wait for and collection of its events),
``check`` (each event checked as a file line), ``sessions`` (the file loader: upsert, attempts,
sessions, quarantine), ``theta_read`` (the recent answers of the users whose θ moves), ``theta_score``
(EAP for all of them at once), ``theta_write`` (history and current θ rows), ``commit``, ``ack``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

PHASES = ("fetch", "check", "sessions", "theta_read", "theta_score", "theta_write", "commit", "ack")


class Phases:
    """Seconds spent per phase (accumulated: a phase timed twice adds up)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(phase, time.perf_counter() - started)

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds

    def merge(self, other: Phases) -> None:
        for phase, seconds in other.seconds.items():
            self.add(phase, seconds)
