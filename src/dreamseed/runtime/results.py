"""What a job run returns (a value the runner, the metrics and the jobs share)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class JobResult:
    """What a run did: entities processed and failed, and domain figures exported as metrics."""

    processed: int
    failed: int = 0
    metrics: Mapping[str, float] = field(default_factory=dict)
    summary: str | None = None  # the job's own summary fields, e.g. "processed_users=3, week=…"

    @property
    def ok(self) -> bool:
        return self.failed == 0
