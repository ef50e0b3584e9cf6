"""Faults against the real broker and database: a worker killed mid-batch, a crash between commit and
ack, the broker restarted, the database unavailable, poison and oversized events."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Sequence

import psycopg
import pytest
from sqlalchemy import Engine, make_url, text
from tests.stream.harness import (
    Broker,
    consume_until,
    consumer_process,
    count,
    publish,
    sessions,
)

from dreamseed.settings import Settings
from dreamseed.stream.landing import BatchLander
from dreamseed.stream.nats_source import NatsSource, StreamLayout
from dreamseed.stream.source import Delivery, Lag
from dreamseed.stream.worker import BatchLimits, consume

pytestmark = pytest.mark.faults
SESSIONS = "SELECT count(*) FROM exam_results"
ATTEMPTS = "SELECT count(*) FROM attempt_fact"


def wait_for(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def lag_of(settings: Settings) -> Lag:
    async def read() -> Lag:
        source = await NatsSource.open(settings.nats_url, StreamLayout.of(settings), create=False)
        try:
            return await source.lag()
        finally:
            await source.close()

    return asyncio.run(read())


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
    stream_settings: Settings, engine: Engine
) -> None:
    settings = stream_settings.model_copy(update={"stream_batch_size": 400, "stream_batch_size_max": 400})
    publish(settings, sessions(200, 20, questions=6))  # 4,000 sessions
    worker = consumer_process(settings)
    wait_for(lambda: count(engine, SESSIONS) > 0)
    worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=10)
    landed_at_kill = count(engine, SESSIONS)
    assert 0 < landed_at_kill < 4000
    consume_until(settings, engine, lambda: count(engine, SESSIONS) == 4000 and lag_of(settings).unacked == 0)
    assert count(engine, ATTEMPTS) == 4000 * 6
    assert count(engine, "SELECT count(DISTINCT session_id) FROM attempt_fact") == 4000


class CrashAfterCommit:
    """A source whose acks are lost, as if the worker died between its commit and its ack."""

    def __init__(self, source: NatsSource) -> None:
        self.source = source

    async def fetch(self, max_events: int, timeout_s: float) -> list[Delivery]:
        return await self.source.fetch(max_events, timeout_s)

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        return None

    async def extend(self, deliveries: Sequence[Delivery]) -> None:
        await self.source.extend(deliveries)

    async def lag(self) -> Lag:
        return await self.source.lag()

    async def close(self) -> None:
        await self.source.close()

    @property
    def connected(self) -> bool:
        return self.source.connected


def test_a_crash_between_commit_and_ack_lands_once(stream_settings: Settings, engine: Engine) -> None:
    from tests.stream.test_theta import put_items

    put_items(engine)
    publish(stream_settings, sessions(10, 3))

    async def run_unacked() -> None:
        source = CrashAfterCommit(
            await NatsSource.open(stream_settings.nats_url, StreamLayout.of(stream_settings))
        )
        lander = BatchLander(engine, stream_settings, "stream:EXAM_RESULTS")
        stop = asyncio.Event()
        task = asyncio.create_task(consume(source, lander, BatchLimits(100, 0.02), stop))
        while await asyncio.to_thread(count, engine, SESSIONS) < 30:
            await asyncio.sleep(0.02)
        stop.set()
        await task
        await source.close()

    asyncio.run(run_unacked())
    history = count(engine, "SELECT count(*) FROM mirt_ability_history")
    assert history == 10
    totals = consume_until(stream_settings, engine, lambda: lag_of(stream_settings).acked_sequence == 30)
    assert totals.events == 30  # redelivered after the ack wait
    assert (count(engine, SESSIONS), count(engine, ATTEMPTS)) == (30, 240)
    assert count(engine, "SELECT count(*) FROM mirt_ability_history") == history


def test_the_broker_restarted_loses_nothing(
    stream_settings: Settings, engine: Engine, broker: Broker
) -> None:
    lines = sessions(50, 4)
    publish(stream_settings, lines[:100])
    worker = consumer_process(stream_settings)
    try:
        wait_for(lambda: count(engine, SESSIONS) == 100)
        broker.stop()
        time.sleep(1.0)
        broker.start()  # same file store: the stream and the durable consumer survive
        publish(stream_settings, lines[100:])
        wait_for(lambda: count(engine, SESSIONS) == 200 or worker.poll() is not None)
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=20)
    assert count(engine, SESSIONS) == 200, output
    assert worker.returncode == 0, output
    assert "events=200" in output
    assert count(engine, ATTEMPTS) == 1600


def _allow_connections(admin_url: str, database_url: str, allowed: bool) -> None:
    name = make_url(database_url).database
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )


def test_the_database_unavailable_holds_the_batch_and_catches_up(
    stream_settings: Settings, engine: Engine, admin_url: str, database_url: str
) -> None:
    worker = consumer_process(stream_settings)
    try:
        publish(stream_settings, sessions(5, 2))
        wait_for(lambda: count(engine, SESSIONS) == 10)
        engine.dispose()
        _allow_connections(admin_url, database_url, False)
        publish(stream_settings, sessions(20, 4)[40:])  # 40 more sessions while the database is out
        time.sleep(6.0)  # three ack waits: held (extended), never acked, never lost
        lag = lag_of(stream_settings)
        assert lag.acked_sequence == 10
        assert lag.pending + lag.unacked == 40
        _allow_connections(admin_url, database_url, True)
        wait_for(lambda: count(engine, SESSIONS) == 50)
    finally:
        _allow_connections(admin_url, database_url, True)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=20)
    assert "database unavailable" in output
    assert count(engine, ATTEMPTS) == 400


def test_poison_and_oversized_events_are_quarantined_and_acked(
    stream_settings: Settings, engine: Engine
) -> None:
    settings = stream_settings.model_copy(update={"stream_max_event_bytes": 2048})
    good = sessions(3, 1)
    huge = sessions(1, 1, questions=60)[0].replace('"u0-s0"', '"big-1"')
    assert len(huge) > 2048
    events = [
        good[0],
        "not json {",
        '{"session_id": "x-1", "result_json": {"questions": []}}',
        good[1],
        huge,
        good[2],
    ]
    publish(settings, events)
    consume_until(settings, engine, lambda: count(engine, "SELECT count(*) FROM ingest_quarantine") == 3)
    wait_for(lambda: lag_of(settings).acked_sequence == 6 and lag_of(settings).unacked == 0, 10)
    with engine.connect() as connection:
        kept = connection.execute(
            text("SELECT line_no, source, reason FROM ingest_quarantine ORDER BY line_no")
        ).all()
    assert [row[0] for row in kept] == [2, 3, 5]  # stream sequences
    assert {row[1] for row in kept} == {"stream:EXAM_RESULTS"}
    assert kept[1][2] == "missing user_id"
    assert "exceeds 2048 bytes" in kept[2][2]
    assert count(engine, SESSIONS) == 3
