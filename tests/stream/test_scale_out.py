"""Several `dreamseed stream consume` processes on one durable consumer: the server spreads the events
over them, every session lands exactly once and every event is acked."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.stream.harness import count, publish, sessions, stream_env
from tests.stream.test_stream_faults import lag_of, wait_for

from dreamseed.settings import Settings

SESSIONS = 600  # 60 users × 10 sessions × 8 questions


def start_workers(settings: Settings, logs: list[Path]) -> list[subprocess.Popen[bytes]]:
    """One `stream consume` per log file; returns once each has bound the durable consumer."""
    workers = []
    for log in logs:
        with log.open("wb") as output:  # the child keeps its own descriptor
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "dreamseed.cli.main", "stream", "consume"],
                    env=stream_env(settings),
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            )
    wait_for(lambda: all("[INFO] consuming" in log.read_text() for log in logs), 60)
    return workers


def summary_events(output: str) -> int:
    """events=N of the worker's summary line."""
    (line,) = [line for line in output.splitlines() if line.startswith("[INFO] Summary:")]
    return int(line.split("events=")[1].split(",")[0])


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_sharing_the_durable_consumer_land_each_session_once(
    stream_settings: Settings, engine: Engine, tmp_path: Path, workers: int
) -> None:
    # small batches, so the events are spread; a long ack wait, so nothing is redelivered
    settings = stream_settings.model_copy(update={"stream_batch_size": 20, "stream_ack_wait_s": 60})
    logs = [tmp_path / f"worker-{n}.log" for n in range(workers)]
    processes = start_workers(settings, logs)
    try:
        published = publish(settings, sessions(60, 10))
        assert (published.sent, published.duplicates) == (SESSIONS, 0)
        wait_for(lambda: count(engine, "SELECT count(*) FROM exam_results") == SESSIONS, 120)
        wait_for(lambda: lag_of(settings).acked_sequence == SESSIONS, 30)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
    outputs = [log.read_text() for log in logs]
    assert [process.returncode for process in processes] == [0] * workers, outputs
    per_worker = [summary_events(output) for output in outputs]
    assert sum(per_worker) == SESSIONS, per_worker  # each event committed and acked by one worker, once
    assert sum(1 for events in per_worker if events) >= 2, per_worker  # the server spread them
    lag = lag_of(settings)
    assert (lag.pending, lag.unacked, lag.acked_sequence) == (0, 0, SESSIONS)
    assert count(engine, "SELECT count(*) FROM attempt_fact") == SESSIONS * 8
    assert count(engine, "SELECT count(DISTINCT session_id) FROM attempt_fact") == SESSIONS
    assert count(engine, "SELECT count(*) FROM session") == SESSIONS
