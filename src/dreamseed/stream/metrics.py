"""Prometheus metrics of the stream consumer (its own registry; served on STREAM_METRICS_PORT)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from dreamseed.stream.phases import PHASES

BATCH_SIZES = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000)
SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _registry() -> CollectorRegistry:
    return CollectorRegistry()


@dataclass
class StreamMetrics:
    """Counters, histograms and lag gauges of one worker."""

    registry: CollectorRegistry = field(default_factory=_registry)

    def __post_init__(self) -> None:
        r = self.registry
        self.consumed = Counter("dreamseed_stream_events_total", "Events committed and acked.", registry=r)
        self.quarantined = Counter(
            "dreamseed_stream_quarantined_total", "Events (or questions) quarantined.", registry=r
        )
        self.thetas = Counter("dreamseed_stream_theta_updates_total", "Online θ updates written.", registry=r)
        self.retries = Counter(
            "dreamseed_stream_batch_retries_total",
            "Batch commits retried (database unavailable).",
            registry=r,
        )
        self.batch_size = Histogram(
            "dreamseed_stream_batch_events", "Events per batch.", buckets=BATCH_SIZES, registry=r
        )
        self.batch_seconds = Histogram(
            "dreamseed_stream_batch_seconds",
            "Seconds of a batch by phase: fetch (waiting for its events), check, sessions (file "
            "loader), theta_read, theta_score, theta_write, commit, ack; total = check to ack.",
            ["phase"],
            buckets=SECONDS,
            registry=r,
        )
        for phase in (*PHASES, "total"):
            self.batch_seconds.labels(phase)
        self.latency = Histogram(
            "dreamseed_stream_event_latency_seconds",
            "Publish to commit, per event.",
            buckets=SECONDS,
            registry=r,
        )
        self.pending = Gauge(
            "dreamseed_stream_consumer_pending", "Events in the stream not yet delivered.", registry=r
        )
        self.unacked = Gauge(
            "dreamseed_stream_consumer_unacked", "Events delivered, not yet acked.", registry=r
        )
        self.oldest_age = Gauge(
            "dreamseed_stream_oldest_unacked_age_seconds",
            "Age of the oldest event of the batch in hand (0 when idle).",
            registry=r,
        )
        self.nats_connected = Gauge(
            "dreamseed_stream_nats_connected", "1 while connected to NATS, else 0.", registry=r
        )
        self.database_up = Gauge(
            "dreamseed_stream_database_up",
            "1 while PostgreSQL answers (last batch committed or probe answered), else 0.",
            registry=r,
        )
        self.nats_up = self.database_ok = False

    def observe_phases(self, seconds: Mapping[str, float]) -> None:
        """One observation per phase a batch went through."""
        for phase, value in seconds.items():
            self.batch_seconds.labels(phase).observe(value)

    def mark_nats(self, connected: bool) -> None:
        self.nats_up = connected
        self.nats_connected.set(int(connected))

    def mark_database(self, up: bool) -> None:
        self.database_ok = up
        self.database_up.set(int(up))

    @property
    def ready(self) -> bool:
        """Connected to NATS and PostgreSQL (what the readiness probe answers)."""
        return self.nats_up and self.database_ok
