"""A file of exam results through a private local broker: start ``nats-server -js``, publish the
file's sessions, consume them with the production worker until nothing is pending, stop the broker.
What `dreamseed demo --stream` does instead of the file loader."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from dreamseed.settings import Settings
from dreamseed.storage.quarantine import IngestSummary
from dreamseed.stream.landing import BatchLander, Landed
from dreamseed.stream.metrics import StreamMetrics
from dreamseed.stream.nats_source import NatsSource, StreamLayout, connect, ensure_stream
from dreamseed.stream.publisher import Published, file_events, publish_events
from dreamseed.stream.server import start_server
from dreamseed.stream.source import EventSource
from dreamseed.stream.worker import BatchLimits, consume

IDLE_CHECK_S = 0.2


@dataclass(frozen=True)
class StreamLoad:
    """What went through the stream: the publish, the loader's summary over every batch, the batches."""

    published: Published
    summary: IngestSummary
    batches: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def load_through_stream(settings: Settings, engine: Engine, path: Path, store: Path) -> StreamLoad:
    """Publish ``path`` to a fresh broker whose store is ``store`` (emptied first) and consume it all."""
    shutil.rmtree(store, ignore_errors=True)
    port = free_port()
    process = start_server(store, port)
    try:
        local = settings.model_copy(update={"nats_url": f"nats://127.0.0.1:{port}"})
        return asyncio.run(_publish_and_consume(local, engine, path))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _publish_and_consume(settings: Settings, engine: Engine, path: Path) -> StreamLoad:
    layout = StreamLayout.of(settings)
    client = await connect(settings.nats_url, "dreamseed-demo-publish")
    try:
        js = client.jetstream()
        await ensure_stream(js, layout)
        with path.open("rb") as lines:
            published = await publish_events(js, file_events(lines), layout.stream)
    finally:
        await client.close()
    source = await NatsSource.open(settings.nats_url, layout)
    source_name = f"stream:{settings.stream_name}"
    landed: list[Landed] = []
    stop = asyncio.Event()
    watcher = asyncio.create_task(_stop_when_drained(source, published.last_sequence, stop))
    try:
        await consume(
            source,
            BatchLander(engine, settings, source_name),
            BatchLimits(
                settings.stream_batch_size, settings.stream_batch_ms / 1000, settings.stream_batch_size_max
            ),
            stop,
            StreamMetrics(),
            landed.append,
        )
    finally:
        watcher.cancel()
        await source.close()
    summary = IngestSummary(source_name)
    for batch in landed:
        summary = summary + batch.summary
    return StreamLoad(published, summary, len(landed))


async def _stop_when_drained(source: EventSource, last_sequence: int, stop: asyncio.Event) -> None:
    """Set ``stop`` once every event up to ``last_sequence`` is acked and nothing is pending."""
    while not stop.is_set():
        try:
            lag = await source.lag()
        except Exception:  # the broker is briefly unavailable: ask again
            await asyncio.sleep(IDLE_CHECK_S)
            continue
        if not lag.pending and not lag.unacked and lag.acked_sequence >= last_sequence:
            stop.set()
            return
        await asyncio.sleep(IDLE_CHECK_S)
