"""`dreamseed stream init` and `stream status` through the CLI against a real nats-server, and the one
clear line (no traceback) every stream command prints when NATS is unreachable or the stream missing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine
from tests.stream.harness import Broker, consume_until, count, free_port, sessions

from dreamseed.cli.main import cli
from dreamseed.settings import Settings
from dreamseed.stream.nats_source import connect


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    running = Broker(tmp_path / "nats", free_port())
    running.start()
    yield running
    running.kill()


def stream_env(url: str, home: Path, **more: str) -> dict[str, str]:
    return {"NATS_URL": url, "DREAMSEED_HOME": str(home), **more}


def test_init_creates_the_stream_and_its_consumer_and_is_idempotent(broker: Broker, tmp_path: Path) -> None:
    env = stream_env(broker.url, tmp_path / "home", STREAM_MAX_DELIVER="7", STREAM_ACK_WAIT_S="12")
    for _ in range(2):
        result = CliRunner().invoke(cli, ["stream", "init"], env=env)
        assert result.exit_code == 0, result.output
        assert "[INFO] stream EXAM_RESULTS and consumer dreamseed-ingest ready" in result.output

    async def read() -> tuple[object, ...]:
        client = await connect(broker.url)
        try:
            js = client.jetstream()
            stream = (await js.stream_info("EXAM_RESULTS")).config
            consumer = (await js.consumer_info("EXAM_RESULTS", "dreamseed-ingest")).config
            names = [info.config.name for info in await js.streams_info()]
        finally:
            await client.close()
        return (
            names,
            stream.subjects,
            str(stream.storage),
            stream.num_replicas,
            stream.duplicate_window,
            str(consumer.ack_policy),
            consumer.max_deliver,
            consumer.ack_wait,
        )

    assert asyncio.run(read()) == (
        ["EXAM_RESULTS"],
        ["dreamseed.exam_results.>"],
        "file",
        1,
        7200.0,
        "explicit",
        7,
        12.0,
    )


def test_status_shows_the_stream_size_and_the_consumer_lag(
    broker: Broker, tmp_path: Path, database_url: str, engine: Engine
) -> None:
    env = stream_env(broker.url, tmp_path / "home")
    events = tmp_path / "exam_results.jsonl"
    events.write_text("\n".join(sessions(5, 1)) + "\n", encoding="utf-8")
    published = CliRunner().invoke(cli, ["stream", "publish", str(events)], env=env)
    assert published.exit_code == 0, published.output
    assert "published 5 events" in published.output
    assert "(0 dropped as duplicates); last sequence 5" in published.output

    before = CliRunner().invoke(cli, ["stream", "status"], env=env)
    assert before.exit_code == 0, before.output
    assert before.output.splitlines() == [
        "stream EXAM_RESULTS: 5 events, last sequence 5",
        "consumer dreamseed-ingest: pending 5, unacked 0, acked through 0",
    ]

    settings = Settings(database_url=database_url, dreamseed_home=tmp_path / "home", nats_url=broker.url)
    consume_until(settings, engine, lambda: count(engine, "SELECT count(*) FROM exam_results") == 5)
    after = CliRunner().invoke(cli, ["stream", "status"], env=env)
    assert after.exit_code == 0, after.output
    assert after.output.splitlines()[1] == "consumer dreamseed-ingest: pending 0, unacked 0, acked through 5"


def test_status_before_init_says_to_run_init(broker: Broker, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["stream", "status"], env=stream_env(broker.url, tmp_path / "home"))
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error: no stream EXAM_RESULTS with consumer dreamseed-ingest at {broker.url}: create them with "
        "`dreamseed stream init` (or check STREAM_NAME, STREAM_CONSUMER)"
    )


@pytest.mark.parametrize("command", [["init"], ["status"], ["publish", "FILE"], ["consume"]])
def test_every_stream_command_says_in_one_line_that_nats_is_unreachable(
    command: list[str], tmp_path: Path, database_url: str
) -> None:
    events = tmp_path / "exam_results.jsonl"
    events.write_text(sessions(1, 1)[0] + "\n", encoding="utf-8")
    url = f"nats://127.0.0.1:{free_port()}"  # nothing listens there
    arguments = ["stream", *[str(events) if part == "FILE" else part for part in command]]
    env = stream_env(url, tmp_path / "home", DATABASE_URL=database_url)
    result = CliRunner().invoke(cli, arguments, env=env)
    assert result.exit_code == 1, result.output
    error = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert error == [
        f"Error: cannot reach NATS: no NATS server answers at {url} (ConnectionRefusedError: "
        f"[Errno 111] Connect call failed ('127.0.0.1', {url.rsplit(':', 1)[1]})); "
        "start one with `dreamseed stream server` or set NATS_URL"
    ]
    assert "Traceback" not in result.output


def test_an_unreachable_nats_prints_no_traceback_and_no_retry_noise(tmp_path: Path) -> None:
    """The installed command, as a user runs it: one line on stderr, exit status 1."""
    url = f"nats://127.0.0.1:{free_port()}"
    completed = subprocess.run(
        [sys.executable, "-m", "dreamseed.cli.main", "stream", "status"],
        env={**os.environ, **stream_env(url, tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert completed.stderr.count("\n") == 1
    assert completed.stderr.startswith(f"Error: cannot reach NATS: no NATS server answers at {url}")
