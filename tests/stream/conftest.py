"""Fixtures of the stream tests: a real nats-server with JetStream per test, settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.stream.harness import Broker, free_port

from dreamseed.settings import Settings


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    running = Broker(tmp_path / "nats", free_port())
    running.start()
    yield running
    running.kill()


@pytest.fixture
def stream_settings(database_url: str, tmp_path: Path, broker: Broker) -> Settings:
    return Settings(
        database_url=database_url,
        dreamseed_home=tmp_path / "home",
        nats_url=broker.url,
        stream_batch_size=100,
        stream_batch_ms=20,
        stream_ack_wait_s=2,
    )
