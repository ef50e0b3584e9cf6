"""Prometheus metrics of a job run, pushed to a Pushgateway when PUSHGATEWAY_URL is set.

Every run pushes to the group `job="dreamseed-<job>"` (plus `shard="<i>"` for a sharded run) with
`pushadd` semantics: the metrics of this push replace the same-named ones of the group, the others
stay. So a failed run keeps the group's `dreamseed_job_last_success_timestamp_seconds` from the last
success, which is what the "overdue" alert in `deploy/prometheus/rules.yml` reads. Every series
carries the label `job_name="<job>"`. Metrics:

- `dreamseed_job_duration_seconds`, `dreamseed_job_last_run_timestamp_seconds`,
  `dreamseed_job_last_run_success` (1/0): every run, including a crashed one;
- `dreamseed_job_processed`, `dreamseed_job_failed` (entities), and
  `dreamseed_job_last_success_timestamp_seconds` (successful runs only): runs that returned a result;
- `dreamseed_<name>` for each figure in the job's `JobResult.metrics` (e.g. `dreamseed_kpi_users`).
"""

from __future__ import annotations

import re
import time

from prometheus_client import CollectorRegistry, Gauge, pushadd_to_gateway

from dreamseed.runtime.results import JobResult
from dreamseed.settings import Settings
from dreamseed.storage.shard import Shard

LABELS = ("job_name",)
BASE_METRICS = (
    "dreamseed_job_duration_seconds",
    "dreamseed_job_last_run_timestamp_seconds",
    "dreamseed_job_last_run_success",
    "dreamseed_job_processed",
    "dreamseed_job_failed",
    "dreamseed_job_last_success_timestamp_seconds",
)
_INVALID_NAME_CHARACTERS = re.compile(r"[^a-zA-Z0-9_]")


def job_registry(
    job: str, result: JobResult | None, duration_ms: int, now: float | None = None
) -> CollectorRegistry:
    """A registry holding one run's figures: duration, processed, failed, success time, domain gauges.

    `now` is the run's end time in Unix seconds (default: the clock); the last-run and last-success
    timestamps of one run are the same value.
    """
    registry = CollectorRegistry()
    ended = time.time() if now is None else now
    _gauge(registry, "dreamseed_job_duration_seconds", "Duration of the last run", job, duration_ms / 1000)
    _gauge(registry, "dreamseed_job_last_run_timestamp_seconds", "End time of the last run", job, ended)
    succeeded = result is not None and result.ok
    _gauge(
        registry,
        "dreamseed_job_last_run_success",
        "1 if the last run succeeded, else 0",
        job,
        float(succeeded),
    )
    if result is None:
        return registry
    _gauge(registry, "dreamseed_job_processed", "Entities processed by the last run", job, result.processed)
    _gauge(registry, "dreamseed_job_failed", "Entities that failed in the last run", job, result.failed)
    if succeeded:
        _gauge(
            registry,
            "dreamseed_job_last_success_timestamp_seconds",
            "End time of the last successful run",
            job,
            ended,
        )
    reserved = set(BASE_METRICS)
    for name, value in result.metrics.items():
        metric = domain_metric_name(name)
        if metric not in reserved:
            _gauge(registry, metric, f"{name} of the last run of a DreamSeed job", job, value)
            reserved.add(metric)
    return registry


def domain_metric_name(name: str) -> str:
    """The Prometheus name of a job's domain figure: `dreamseed_<name>`, invalid characters as `_`."""
    return "dreamseed_" + _INVALID_NAME_CHARACTERS.sub("_", name)


def _gauge(registry: CollectorRegistry, name: str, help_text: str, job: str, value: float) -> None:
    Gauge(name, help_text, LABELS, registry=registry).labels(job).set(value)


def publish(settings: Settings, job: str, shard: Shard, result: JobResult | None, duration_ms: int) -> None:
    """Push to the Pushgateway (grouped by job and shard) when one is configured; never fails the job."""
    if not settings.pushgateway_url:
        return
    grouping = {"shard": str(shard.index)} if not shard.is_whole else {}
    try:
        pushadd_to_gateway(
            settings.pushgateway_url,
            job=f"dreamseed-{job}",
            registry=job_registry(job, result, duration_ms),
            grouping_key=grouping,
            timeout=10,
        )
    except OSError as error:
        print(f"[WARN] could not push metrics to {settings.pushgateway_url}: {error}")
