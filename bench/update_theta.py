"""Latency of the online θ update under concurrent calls, against a real `dreamseed serve`.

    python -m bench.update_theta [--users 500] [--attempts 1000] [--items 2000] [--requests 1000]
    python -m bench.update_theta --concurrency 1 8 --workers 2    # `dreamseed serve --workers 2`

On a fresh embedded PostgreSQL server: an item bank of --items calibrated items
(mirt_item_params) and --users users with --attempts answers each in the last 25 days (written
straight into attempt_fact, the table the service reads). Starts `dreamseed serve` in its own
process, then for each concurrency level times --requests calls of
  - baseline: `GET /healthz` (HTTP, routing, one `SELECT 1` on the database), and
  - `POST /api/seedtest/analysis/irt/update-theta` for random users (read 1,000 answers, EAP on
    81 points, one write, commit),
from client threads with keep-alive connections. Prints p50/p99 and the ratio to the baseline.
Goal: p99 < 20 ms for a user with 1,000 attempts.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
from bench._support import machine, markdown_table, scratch_database
from sqlalchemy import Engine, text

from dreamseed.storage.frames import copy_rows

PATH = "/api/seedtest/analysis/irt/update-theta"


def populate(engine: Engine, users: int, attempts: int, items: int, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        copy_rows(
            connection,
            "COPY mirt_item_params (item_id, model, params, version, run_id, fitted_at) FROM STDIN",
            (
                (
                    str(100_000 + j),
                    "2PL",
                    json.dumps({"a": float(a), "b": float(b), "c": 0.0}),
                    "v1",
                    "bench",
                    now,
                )
                for j, (a, b) in enumerate(
                    zip(rng.lognormal(0.2, 0.25, items), rng.normal(0, 1, items), strict=True)
                )
            ),
        )
        copy_rows(
            connection,
            "COPY attempt_fact (exam_result_id, question_index, question_key, user_id, item_id, "
            "correct, response_time_ms, hints, completed_at, session_id, topic_id, exam_id) FROM STDIN",
            _attempts(rng, users, attempts, items, now),
        )
        connection.execute(text("ANALYZE"))


def _attempts(rng: np.random.Generator, users: int, attempts: int, items: int, now: datetime):  # type: ignore[no-untyped-def]
    for user in range(users):
        exam = uuid.uuid4()
        offsets = np.sort(rng.uniform(0, 25 * 86400, attempts))
        chosen = rng.integers(0, items, attempts)
        correct = rng.random(attempts) < 0.65
        for k in range(attempts):
            yield (
                exam, k, None, f"user{user}", 100_000 + int(chosen[k]), bool(correct[k]), 30_000, 0,
                now - timedelta(seconds=float(offsets[k])), f"user{user}-session{k // 20}", "algebra", 101,
            )  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(database_url: str, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    command = [
        sys.executable,
        "-m",
        "dreamseed.cli.main",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    command += ["--log-level", "warning"]
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("dreamseed serve did not start")


def latencies(base: str, concurrency: int, requests: int, call: str, users: int) -> tuple[np.ndarray, float]:
    """Per-request seconds of ``requests`` calls from ``concurrency`` threads, and the wall time."""
    results: list[float] = []
    lock = threading.Lock()
    per_thread = requests // concurrency

    def worker(index: int) -> None:
        rng = np.random.default_rng(index)
        own: list[float] = []
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(per_thread):
                started = time.perf_counter()
                if call == "healthz":
                    answer = client.get("/healthz")
                else:
                    answer = client.post(PATH, json={"user_id": f"user{rng.integers(users)}"})
                own.append(time.perf_counter() - started)
                if answer.status_code != 200 or answer.json().get("status", "ok") != "ok":
                    raise RuntimeError(f"unexpected answer: {answer.status_code} {answer.text}")
        with lock:
            results.extend(own)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return np.array(results), time.perf_counter() - started


def server_seconds(base: str, route: str) -> tuple[float, float]:
    """(sum, count) of the server's own request-duration histogram for a route (one worker's view)."""
    text_ = httpx.get(base + "/metrics").text
    labels = rf'\{{method="(?:GET|POST)",route="{re.escape(route)}"\}}'
    total = re.search(rf"dreamseed_http_request_duration_seconds_sum{labels} (\S+)", text_)
    count = re.search(rf"dreamseed_http_request_duration_seconds_count{labels} (\S+)", text_)
    return (float(total.group(1)), float(count.group(1))) if total and count else (0.0, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--workers", type=int, default=1, help="`dreamseed serve --workers`")
    args = parser.parse_args()
    rows = []
    with scratch_database() as engine:
        populate(engine, args.users, args.attempts, args.items)
        port = free_port()
        server = start_server(engine.url.render_as_string(hide_password=False), port, args.workers)
        base = f"http://127.0.0.1:{port}"
        try:
            latencies(base, 4, 200, "update", args.users)  # warm-up: connections, item bank, caches
            for concurrency in args.concurrency:
                figures = {}
                for call, route in (("healthz", "/healthz"), ("update", PATH)):
                    before = server_seconds(base, route)
                    seconds, wall = latencies(base, concurrency, args.requests, call, args.users)
                    after = server_seconds(base, route)
                    inside = (after[0] - before[0]) / max(after[1] - before[1], 1)
                    figures[call] = (
                        np.percentile(seconds, 50),
                        np.percentile(seconds, 99),
                        len(seconds) / wall,
                        inside,
                    )
                (h50, h99, hrate, _), (u50, u99, urate, u_inside) = figures["healthz"], figures["update"]
                rows.append(
                    [
                        str(concurrency),
                        f"{h50 * 1000:.1f} / {h99 * 1000:.1f}",
                        f"{u50 * 1000:.1f} / {u99 * 1000:.1f}",
                        f"{u50 / h50:.2f} / {u99 / h99:.2f}",
                        f"{hrate:,.0f} / {urate:,.0f}",
                        f"{u_inside * 1000:.1f}" if args.workers == 1 else "n/a (per-worker metrics)",
                    ]
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(
        f"{args.users} users × {args.attempts} answers (last 25 days), {args.items} calibrated items, "
        f"{args.requests} requests per cell; server: `dreamseed serve --workers {args.workers}`; machine: {machine()}"
    )
    print(
        markdown_table(
            [
                "concurrent clients",
                "GET /healthz p50 / p99 (ms)",
                "update-theta p50 / p99 (ms)",
                "update ÷ healthz (p50 / p99)",
                "requests/s (healthz / update)",
                "update: mean time inside the server (ms)",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    main()
