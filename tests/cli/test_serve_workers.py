"""`dreamseed serve --workers 2`: two processes on one socket answer every θ update and lose none."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine, text
from tests.api.test_update_theta import PATH, put_items
from tests.factories import load, steady_learner

USERS = 8
CLIENTS = 8
CALLS_PER_CLIENT = 10


@contextmanager
def served(database_url: str, home: Path, workers: int) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": database_url, "DREAMSEED_HOME": str(home)}
    command = [sys.executable, "-m", "dreamseed.cli.main", "serve", "--port", str(port)]
    process = subprocess.Popen([*command, "--workers", str(workers), "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("dreamseed serve --workers did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_two_workers_answer_and_record_every_update(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    first = (datetime.now(UTC) - timedelta(days=20)).date().isoformat()
    load(engine, [line for n in range(USERS) for line in steady_learner(f"u{n}", first, 10)])
    put_items(engine)
    with served(database_url, tmp_path / "home", workers=2) as url:

        def client(index: int) -> list[int]:
            with httpx.Client(base_url=url, timeout=60) as http:
                return [
                    http.post(
                        PATH, json={"user_id": f"u{(index + call) % USERS}", "session_id": f"w{index}-{call}"}
                    ).status_code
                    for call in range(CALLS_PER_CLIENT)
                ]

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = [status for batch in pool.map(client, range(CLIENTS)) for status in batch]
    calls = CLIENTS * CALLS_PER_CLIENT
    assert statuses == [200] * calls
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT count(*), count(DISTINCT (user_id, run_id)) FROM mirt_ability_history")
        ).one()
    assert tuple(rows) == (calls, calls)
