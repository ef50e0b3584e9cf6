"""The settings of the streaming path (NATS JetStream): broker, stream, consumer and batching."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from dreamseed.settings.aliases import env_alias as _env


class StreamSettings(BaseSettings):
    """Settings of `dreamseed stream` (a base of `Settings`; its fields are read the same way)."""

    nats_url: str = Field(
        "nats://127.0.0.1:4222",
        validation_alias=_env("NATS_URL"),
        description="dreamseed stream: the NATS server (comma-separated URLs for a cluster); "
        "`dreamseed stream server` runs one locally on the default.",
    )
    stream_name: str = Field(
        "EXAM_RESULTS",
        validation_alias=_env("STREAM_NAME"),
        description="dreamseed stream: the JetStream stream holding subjects dreamseed.exam_results.<org_id>.",
    )
    stream_consumer: str = Field(
        "dreamseed-ingest",
        validation_alias=_env("STREAM_CONSUMER"),
        description="dreamseed stream consume: the durable pull consumer every worker shares.",
    )
    stream_batch_size: int = Field(
        500,
        ge=1,
        le=10_000,
        validation_alias=_env("STREAM_BATCH_SIZE"),
        description="dreamseed stream consume: most events loaded (one transaction, then acked) per batch.",
    )
    stream_batch_size_max: int = Field(
        2_000,
        ge=1,
        le=20_000,
        validation_alias=_env("STREAM_BATCH_SIZE_MAX"),
        description="dreamseed stream consume: under a backlog (STREAM_BATCH_SIZE or more events pending) "
        "batches grow up to this many events.",
    )
    stream_batch_ms: int = Field(
        50,
        ge=0,
        validation_alias=_env("STREAM_BATCH_MS"),
        description="dreamseed stream consume: longest wait (ms) after a batch's first event for more.",
    )
    stream_max_event_bytes: int = Field(
        1_048_576,
        ge=1024,
        validation_alias=_env("STREAM_MAX_EVENT_BYTES"),
        description="dreamseed stream consume: larger events are quarantined (and acked) unread.",
    )
    stream_ack_wait_s: int = Field(
        30,
        ge=1,
        validation_alias=_env("STREAM_ACK_WAIT_S"),
        description="dreamseed stream: seconds an unacked event waits before it is redelivered "
        "(a worker holding a batch through a database outage keeps extending it).",
    )
    stream_max_deliver: int = Field(
        20,
        ge=2,
        validation_alias=_env("STREAM_MAX_DELIVER"),
        description="dreamseed stream: deliveries of one event; the last one is quarantined (reason "
        "'delivered N times') and acked instead of loaded, so nothing is dropped silently.",
    )
    stream_replicas: int = Field(
        1,
        ge=1,
        le=5,
        validation_alias=_env("STREAM_REPLICAS"),
        description="dreamseed stream init: replicas of the stream (3 on a production NATS cluster).",
    )
    stream_max_age_days: int = Field(
        7,
        ge=1,
        validation_alias=_env("STREAM_MAX_AGE_DAYS"),
        description="dreamseed stream init: days the stream keeps events (acked or not).",
    )
    stream_metrics_port: int | None = Field(
        None,
        validation_alias=_env("STREAM_METRICS_PORT"),
        description="dreamseed stream consume: serve Prometheus metrics on this port (unset: none).",
    )
