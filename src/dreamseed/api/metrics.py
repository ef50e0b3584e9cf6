"""Prometheus metrics of the service, in a registry per app (tests create many apps).

- `dreamseed_http_requests_total{method,route,status}` and
  `dreamseed_http_request_duration_seconds{method,route}` (route = the path template);
- `dreamseed_theta_updates_total{status}` (ok, noop) and `dreamseed_item_bank_items{version}`;
- the batch jobs' status read from `job_runs` at scrape time (one small query), under the names the
  jobs push to a Pushgateway — `dreamseed_job_last_run_success`, `dreamseed_job_last_run_timestamp_seconds`,
  `dreamseed_job_last_success_timestamp_seconds`, `dreamseed_job_duration_seconds`,
  `dreamseed_job_processed`, `dreamseed_job_failed` and each `dreamseed_<figure>` of the latest
  successful run (e.g. `dreamseed_calibration_converged`), labelled `job_name` — so a cluster without
  a Pushgateway can alert from the service alone. Scrape one source or the other, not both.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from dreamseed.runtime.metrics import domain_metric_name

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_JOB_COLUMNS = {
    "dreamseed_job_last_run_success": ("1 if the job's latest run succeeded", None),
    "dreamseed_job_last_run_timestamp_seconds": ("End time of the job's latest run", "finished_epoch"),
    "dreamseed_job_last_success_timestamp_seconds": ("End time of the job's latest success", "success_epoch"),
    "dreamseed_job_duration_seconds": ("Duration of the job's latest run", "duration_ms"),
    "dreamseed_job_processed": ("Entities processed by the job's latest run", "processed"),
    "dreamseed_job_failed": ("Entities that failed in the job's latest run", "failed"),
}


class JobStatusCollector(Collector):
    """Reads job_runs on every scrape through ``read`` (a frame as `storage.irt_service.read_job_status`);
    yields nothing when the database is unreachable."""

    def __init__(self, read: Callable[[], pd.DataFrame]) -> None:
        self._read = read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            rows = self._read()
        except Exception:
            return
        families = {
            name: GaugeMetricFamily(name, text, labels=["job_name"])
            for name, (text, _) in _JOB_COLUMNS.items()
        }
        domain: dict[str, GaugeMetricFamily] = {}
        for row in rows.to_dict("records"):
            job = str(row["job"])
            for name, (_, column) in _JOB_COLUMNS.items():
                value = float(row["status"] == "succeeded") if column is None else _number(row[column])
                if value is not None:
                    families[name].add_metric([job], value / 1000 if column == "duration_ms" else value)
            for key, value in _metrics_of(row.get("metrics")).items():
                name = domain_metric_name(key)
                if name not in families and _number(value) is not None:
                    family = domain.setdefault(
                        name,
                        GaugeMetricFamily(name, f"{key} of the latest successful run", labels=["job_name"]),
                    )
                    family.add_metric([job], float(value))
        yield from families.values()
        yield from domain.values()


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool | str) or pd.isna(value):
        return None
    return float(value)


def _metrics_of(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


class ServiceMetrics:
    """The app's registry and instruments."""

    def __init__(self, read_job_status: Callable[[], pd.DataFrame] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "dreamseed_http_requests",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "dreamseed_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.theta_updates = Counter(
            "dreamseed_theta_updates", "Online θ updates by outcome", ["status"], registry=self.registry
        )
        self.item_bank_items = Gauge(
            "dreamseed_item_bank_items", "Items in the cached item bank", ["version"], registry=self.registry
        )
        if read_job_status is not None:
            self.registry.register(JobStatusCollector(read_job_status))

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
