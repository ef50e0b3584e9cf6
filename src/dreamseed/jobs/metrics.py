"""Prometheus metrics of a job run, pushed to a Pushgateway when PUSHGATEWAY_URL is set."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Gauge, pushadd_to_gateway

from dreamseed.jobs.shard import Shard
from dreamseed.settings import Settings

if TYPE_CHECKING:
    from dreamseed.jobs.runner import JobResult


def job_registry(job: str, result: JobResult | None, duration_ms: int) -> CollectorRegistry:
    """A registry holding one run's figures: duration, processed, failed, success time, domain gauges."""
    registry = CollectorRegistry()
    labels = ["job_name"]
    Gauge("dreamseed_job_duration_seconds", "Duration of the last run", labels, registry=registry).labels(
        job
    ).set(duration_ms / 1000)
    Gauge(
        "dreamseed_job_last_run_timestamp_seconds", "End time of the last run", labels, registry=registry
    ).labels(job).set(time.time())
    status = Gauge(
        "dreamseed_job_last_run_success", "1 if the last run succeeded, else 0", labels, registry=registry
    )
    status.labels(job).set(1 if result is not None and result.ok else 0)
    if result is None:
        return registry
    Gauge("dreamseed_job_processed", "Entities processed by the last run", labels, registry=registry).labels(
        job
    ).set(result.processed)
    Gauge("dreamseed_job_failed", "Entities that failed in the last run", labels, registry=registry).labels(
        job
    ).set(result.failed)
    if result.ok:
        Gauge(
            "dreamseed_job_last_success_timestamp_seconds",
            "End time of the last successful run",
            labels,
            registry=registry,
        ).labels(job).set(time.time())
    for name, value in result.metrics.items():
        Gauge(f"dreamseed_{name}", f"{job}: {name}", labels, registry=registry).labels(job).set(value)
    return registry


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
