"""Stream ingestion: sessions/s landed through NATS JetStream next to the file loader, in one run;
publish → θ visible latency at a steady rate; time to drain a 10× burst.

    python bench/stream.py [--sessions 20000] [--rate 200] [--seconds 15] [--workers 2]

On a fresh embedded PostgreSQL and a fresh `nats-server -js` (both from pip): (1) the file path,
`load_exam_results` over the same JSON lines (parse, check, upsert, attempts, sessions) without θ;
(2) the stream path end to end: the same sessions published as a backlog, then `consume` until all
are committed together with the online θ update of their users (events/s from the first fetch to
the last commit); (3) --rate sessions/s published steadily for --seconds while the worker runs:
latency from the stream's publish timestamp to the commit of the batch (θ visible), p50/p99;
(4) a burst of 10 × --rate for 10 s: seconds until the consumer has no pending or unacked event;
(5) the backlog again through 1 and then --workers `dreamseed stream consume` processes sharing the
durable consumer (started and bound first, paused with SIGSTOP while the backlog is published,
resumed with SIGCONT; until its last session is committed). Where
the time of (2) goes: seconds per phase from ``dreamseed_stream_batch_seconds{phase}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from bench._support import machine, markdown_table, scratch_database
from sqlalchemy import Engine, text

from dreamseed.ingest.records import check_exam_result
from dreamseed.settings import Settings
from dreamseed.storage.ingest import load_exam_results
from dreamseed.stream.landing import BatchLander, Checked, Landed
from dreamseed.stream.metrics import StreamMetrics
from dreamseed.stream.nats_source import NatsSource, StreamLayout, connect, ensure_stream
from dreamseed.stream.phases import PHASES
from dreamseed.stream.publisher import publish_events
from dreamseed.stream.server import start_server
from dreamseed.stream.source import Delivery
from dreamseed.stream.worker import BatchLimits, consume

ITEMS = 400
QUESTIONS = 20
PORT = 14_322


def session_lines(count: int, prefix: str, users: int = 5_000, seed: int = 3) -> list[bytes]:
    """``count`` finished sessions of ``users`` students, 20 questions each, within the last day."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    lines = []
    for n in range(count):
        items = rng.choice(ITEMS, QUESTIONS, replace=False) + 1
        stamp = (now - timedelta(seconds=int(rng.integers(0, 86_400)))).isoformat()
        questions = [
            {
                "question_id": str(i),
                "topic": f"t{i % 12}",
                "is_correct": bool(rng.random() < 0.6),
                "time_spent_sec": float(rng.integers(5, 90)),
                "used_hints": int(rng.integers(0, 2)),
            }
            for i in items
        ]
        record = {
            "session_id": f"{prefix}{n}",
            "user_id": f"u{int(rng.integers(users))}",
            "exam_id": 1,
            "org_id": 1,
            "status": "completed",
            "result_json": {"questions": questions},
            "created_at": stamp,
            "updated_at": stamp,
        }
        lines.append(json.dumps(record).encode())
    return lines


def put_items(engine: Engine) -> None:
    rng = np.random.default_rng(1)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO mirt_item_params (item_id, model, params, version, run_id, fitted_at) "
                "VALUES (:i, '2PL', CAST(:p AS jsonb), 'v1', 'bench', now())"
            ),
            [
                {
                    "i": str(i),
                    "p": json.dumps({"a": float(rng.uniform(0.7, 2)), "b": float(rng.normal()), "c": 0}),
                }
                for i in range(1, ITEMS + 1)
            ],
        )


def reset(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "TRUNCATE exam_results, attempt_fact, session, mirt_ability, "
                "mirt_ability_history, ingest_quarantine CASCADE"
            )
        )


class TimedLander(BatchLander):
    """Records, per event, seconds from its publish timestamp to its batch's commit."""

    latencies: list[float]
    committed = 0
    last_commit = 0.0

    def land(self, deliveries: Sequence[Delivery], checked: Checked | None = None) -> Landed:
        landed = super().land(deliveries, checked)
        now = datetime.now(UTC)
        self.latencies.extend((now - d.published_at).total_seconds() for d in deliveries if d.published_at)
        self.committed += len(deliveries)
        self.last_commit = time.perf_counter()
        return landed


def limits_of(settings: Settings) -> BatchLimits:
    return BatchLimits(
        settings.stream_batch_size, settings.stream_batch_ms / 1000, settings.stream_batch_size_max
    )


async def run_consumer(
    settings: Settings,
    lander: TimedLander,
    until: int,
    timeout_s: float,
    metrics: StreamMetrics | None = None,
) -> float:
    """Consume until ``until`` events are committed; returns seconds from start to last commit."""
    source = await NatsSource.open(settings.nats_url, StreamLayout.of(settings))
    stop = asyncio.Event()
    started = time.perf_counter()

    async def watch() -> None:
        while lander.committed < until and time.perf_counter() - started < timeout_s:
            await asyncio.sleep(0.01)
        stop.set()

    watcher = asyncio.create_task(watch())
    await consume(source, lander, limits_of(settings), stop, metrics)
    await watcher
    await source.close()
    return lander.last_commit - started


async def publish_backlog(settings: Settings, events: list[bytes]) -> float:
    client = await connect(settings.nats_url)
    js = client.jetstream()
    await ensure_stream(js, StreamLayout.of(settings))
    started = time.perf_counter()
    await publish_events(js, events, settings.stream_name)
    seconds = time.perf_counter() - started
    await client.close()
    return seconds


def event_id(event: bytes) -> str:
    """The session id of an event (its Nats-Msg-Id, as `dreamseed stream publish` sets it)."""
    return str(json.loads(event)["session_id"])


async def publish_steadily(settings: Settings, events: list[bytes], rate: float) -> None:
    client = await connect(settings.nats_url)
    js = client.jetstream()
    started = time.perf_counter()
    for n, event in enumerate(events):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await js.publish_async("dreamseed.exam_results.1", event, headers={"Nats-Msg-Id": event_id(event)})
    await js.publish_async_completed()
    await client.close()


async def steady_and_burst(
    settings: Settings, lander: TimedLander, rate: int, seconds: int
) -> tuple[float, float]:
    """Steady rate (latencies recorded in ``lander``), then a 10× burst: its drain time and events."""
    steady = session_lines(rate * seconds, "steady-", seed=5)
    burst = session_lines(rate * 10 * 10, "burst-", seed=6)
    total = len(steady) + len(burst)
    lander.committed = 0
    consumer = asyncio.create_task(run_consumer(settings, lander, total, 180))
    await publish_steadily(settings, steady, rate)
    print(f"steady published; committed {lander.committed}", flush=True)
    while lander.committed < len(steady):
        await asyncio.sleep(0.01)
    steady_latencies = list(lander.latencies)
    lander.latencies.clear()
    started = time.perf_counter()
    await publish_steadily(settings, burst, rate * 10)
    publish_end = time.perf_counter()
    print(f"burst published in {publish_end - started:.1f}s; committed {lander.committed}", flush=True)
    await consumer
    lander.latencies[:] = steady_latencies
    return lander.last_commit - publish_end, lander.last_commit - started


def phase_rows(metrics: StreamMetrics, total_s: float) -> list[list[str]]:
    """Seconds, share of ``total_s`` and ms per batch of each phase (the worker's own histogram)."""
    value = metrics.registry.get_sample_value
    batches = value("dreamseed_stream_batch_seconds_count", {"phase": "total"}) or 1.0
    events = value("dreamseed_stream_batch_events_sum") or 0.0
    rows = []
    for phase in PHASES:
        seconds = value("dreamseed_stream_batch_seconds_sum", {"phase": phase}) or 0.0
        rows.append(
            [phase, f"{seconds:.2f}", f"{100 * seconds / total_s:.0f}%", f"{1000 * seconds / batches:.1f}"]
        )
    rows.append([f"({batches:.0f} batches, {events / batches:.0f} events each)", "", "", ""])
    return rows


def worker_env(settings: Settings, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "NATS_URL": settings.nats_url,
        "STREAM_CONSUMER": settings.stream_consumer,
        "LOG_LEVEL": "WARNING",
    }


def through_processes(settings: Settings, engine: Engine, events: list[bytes], workers: int) -> float:
    """``workers`` `dreamseed stream consume` processes on one durable consumer: seconds to land a
    backlog (the workers started and bound first, paused while it is published, then resumed)."""
    reset(engine)
    url = engine.url.render_as_string(hide_password=False)
    command = [sys.executable, "-m", "dreamseed.cli.main", "stream", "consume"]
    logs = [Path(tempfile.mkstemp(prefix="dsbench-worker-", suffix=".log")[1]) for _ in range(workers)]
    processes = [
        subprocess.Popen(
            command, env=worker_env(settings, url), stdout=log.open("w"), stderr=subprocess.STDOUT
        )
        for log in logs
    ]
    try:  # each prints "[INFO] consuming ..." once bound to the durable consumer
        while not all("consuming" in log.read_text() for log in logs):
            assert all(process.poll() is None for process in processes), [log.read_text() for log in logs]
            time.sleep(0.05)
        for process in processes:  # paused while the backlog is published, as in (2)
            process.send_signal(signal.SIGSTOP)
        asyncio.run(publish_backlog(settings, events))
        started = time.perf_counter()
        for process in processes:
            process.send_signal(signal.SIGCONT)
        while count_sessions(engine) < len(events):
            time.sleep(0.02)
        return time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        for log in logs:
            log.unlink()


def count_sessions(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM exam_results")).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2, help="worker processes of (5); 0: skip (5)")
    args = parser.parse_args()
    events = session_lines(args.sessions, "s")
    store = Path(tempfile.mkdtemp(prefix="dsbench-nats-"))
    broker = start_server(store, PORT)
    try:
        with scratch_database() as engine:
            put_items(engine)
            started = time.perf_counter()
            summary = load_exam_results(
                engine, (check_exam_result(n, e.decode()) for n, e in enumerate(events, 1)), "bench"
            )
            file_s = time.perf_counter() - started
            assert summary.inserted == len(events)
            reset(engine)
            settings = Settings(nats_url=f"nats://127.0.0.1:{PORT}")
            publish_s = asyncio.run(publish_backlog(settings, events))
            lander = TimedLander(engine, settings, "stream:bench")
            lander.latencies = []
            metrics = StreamMetrics()
            stream_s = asyncio.run(run_consumer(settings, lander, len(events), 600, metrics))
            with engine.connect() as connection:
                landed = connection.execute(text("SELECT count(*) FROM exam_results")).scalar_one()
                thetas = connection.execute(text("SELECT count(*) FROM mirt_ability_history")).scalar_one()
            assert landed == len(events), landed
            lander.latencies = []
            drain_s, burst_s = asyncio.run(steady_and_burst(settings, lander, args.rate, args.seconds))
            latencies = np.array(lander.latencies) * 1000
            processes: list[tuple[int, float]] = []
            for n, workers in enumerate(sorted({1, args.workers}) if args.workers else []):
                again = [e.replace(b'"session_id": "s', f'"session_id": "p{n}-'.encode()) for e in events]
                processes.append((workers, through_processes(settings, engine, again, workers)))
    finally:
        broker.terminate()
        broker.wait()
    file_rate, stream_rate = len(events) / file_s, len(events) / stream_s
    print(
        f"{len(events):,} sessions × {QUESTIONS} questions; θ history rows written: {thetas:,}; "
        f"publish of the backlog: {len(events) / publish_s:,.0f} events/s; machine: {machine()}"
    )
    print(
        markdown_table(
            ["path", "seconds", "sessions/s", "stream ÷ file"],
            [
                ["file: load_exam_results (no θ)", f"{file_s:.2f}", f"{file_rate:,.0f}", "1.00"],
                [
                    "stream: backlog consumed, batches committed with θ, acked",
                    f"{stream_s:.2f}",
                    f"{stream_rate:,.0f}",
                    f"{stream_rate / file_rate:.2f}",
                ],
            ],
        )
    )
    print(markdown_table(["phase of (2)", "seconds", "share", "ms per batch"], phase_rows(metrics, stream_s)))
    if processes:
        print(
            markdown_table(
                ["backlog through worker processes", "seconds", "sessions/s", "÷ file"],
                [
                    [
                        f"{workers} × dreamseed stream consume",
                        f"{s:.2f}",
                        f"{len(events) / s:,.0f}",
                        f"{len(events) / s / file_rate:.2f}",
                    ]
                    for workers, s in processes
                ],
            )
        )
    print(
        markdown_table(
            ["at a steady rate", "events", "p50 ms", "p99 ms", "max ms"],
            [
                [
                    f"{args.rate}/s for {args.seconds} s: publish → θ committed",
                    f"{len(latencies):,}",
                    f"{np.percentile(latencies, 50):.0f}",
                    f"{np.percentile(latencies, 99):.0f}",
                    f"{latencies.max():.0f}",
                ]
            ],
        )
    )
    print(
        f"burst of {args.rate * 10}/s for 10 s: consumer caught up {drain_s:.1f} s after the last publish "
        f"({burst_s:.1f} s from the burst's start)"
    )


if __name__ == "__main__":
    main()
