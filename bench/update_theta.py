"""Throughput and latency of the online θ update under concurrent calls, against a real `dreamseed serve`.

    nice python -m bench.update_theta [--users 500] [--attempts 1000] [--items 2000] [--requests 2000]
    nice python -m bench.update_theta --concurrency 1 8 --workers 1 2     # `dreamseed serve --workers N`
    nice python -m bench.update_theta --before-src /tmp/before/src        # the old code, same run

On a fresh embedded PostgreSQL server: an item bank of --items calibrated items
(mirt_item_params) and --users users with --attempts answers each in the last 25 days (written
straight into attempt_fact, the table the service reads). Starts `dreamseed serve` in its own
process (with R_IRT_INTERNAL_TOKEN set: every update carries the bearer token), then for each
concurrency level times --requests calls of
  - baseline: `GET /healthz` (HTTP, routing, one `SELECT 1` on the database), and
  - `POST /api/seedtest/analysis/irt/update-theta` for random users (read 1,000 answers, EAP on
    81 points, one write),
from one low-overhead client process (``bench.http_load``: coroutines over raw keep-alive
sockets). Prints p50/p99, the ratio to the baseline, throughput, the CPU split per call (server
process tree / PostgreSQL / client) and checks that every successful update left one θ history
row (none lost). With --before-src, a second server runs that source tree (e.g. a `git archive`
of an earlier commit) with uvloop and httptools hidden, so uvicorn falls back to asyncio and h11
as it did before they were installed; its cells are interleaved with the current code's.
Goals: ≥ 500 updates/s with p99 < 20 ms at 8 clients, p99 < 10 ms at 1 client.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import orjson
from bench._support import machine, markdown_table, scratch_database
from bench.http_load import Connection, CpuMeter, CpuSplit, postmaster_pid, run_clients
from sqlalchemy import Engine, text

from dreamseed.storage.frames import copy_rows

PATH = "/api/seedtest/analysis/irt/update-theta"
TOKEN = "bench-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# How the baseline server hides uvloop and httptools (uvicorn's "auto" then picks asyncio and h11).
_WITHOUT_FAST_STACK = (
    "import sys; sys.modules['uvloop'] = None; sys.modules['httptools'] = None; "
    "from dreamseed.cli.main import main; sys.argv[0] = 'dreamseed'; main()"
)


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


def start_server(
    database_url: str,
    port: int,
    workers: int = 1,
    source: str | None = None,
    token: str | None = TOKEN,
    keep_stack: bool = False,
) -> subprocess.Popen[bytes]:
    """`dreamseed serve` on ``port`` (``source``: run that source tree, without uvloop/httptools
    unless ``keep_stack``)."""
    env = {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"}
    if token:
        env["R_IRT_INTERNAL_TOKEN"] = token
    arguments = ["serve", "--port", str(port), "--workers", str(workers), "--log-level", "warning"]
    command = [sys.executable, "-m", "dreamseed.cli.main", *arguments]
    if source is not None:
        env["PYTHONPATH"] = source
        if not keep_stack:
            command = [sys.executable, "-c", _WITHOUT_FAST_STACK, *arguments]
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return process
        except httpx.TransportError:
            if process.poll() is not None:
                break
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("dreamseed serve did not start")


def server_seconds(base: str, route: str, headers: dict[str, str] | None = None) -> tuple[float, float]:
    """(sum, count) of the server's own request-duration histogram for a route (one worker's view)."""
    text_ = httpx.get(base + "/metrics", headers=headers or AUTH).text
    labels = rf'\{{method="(?:GET|POST)",route="{re.escape(route)}"\}}'
    total = re.search(rf"dreamseed_http_request_duration_seconds_sum{labels} (\S+)", text_)
    count = re.search(rf"dreamseed_http_request_duration_seconds_count{labels} (\S+)", text_)
    return (float(total.group(1)), float(count.group(1))) if total and count else (0.0, 0.0)


@dataclass(frozen=True)
class Cell:
    """One timed stretch: per-call seconds, wall seconds, CPU split and the successful calls."""

    seconds: np.ndarray
    wall: float
    cpu: CpuSplit
    ok: int

    @property
    def rate(self) -> float:
        return len(self.seconds) / self.wall

    def ms(self) -> str:
        p50, p99 = np.percentile(self.seconds * 1000, [50, 99])
        return f"{p50:.1f} / {p99:.1f}"


def timed_calls(port: int, meter: CpuMeter, concurrency: int, requests: int, call: str, users: int) -> Cell:
    """``requests`` calls of ``call`` ("healthz" or "update") from ``concurrency`` clients."""
    per_client = requests // concurrency
    results: list[float] = []
    ok = 0

    async def script(connection: Connection, index: int) -> None:
        nonlocal ok
        rng = np.random.default_rng([index, requests, concurrency])
        if call == "healthz":
            bodies = [connection.request_bytes("GET", "/healthz")] * per_client
        else:
            bodies = [
                connection.request_bytes("POST", PATH, orjson.dumps({"user_id": f"user{u}"}))
                for u in rng.integers(users, size=per_client)
            ]
        own = []
        for request in bodies:
            started = time.perf_counter()
            status, body = await connection.send(request)
            own.append(time.perf_counter() - started)
            if status != 200 or orjson.loads(body).get("status", "ok") != "ok":
                raise RuntimeError(f"unexpected answer: {status} {body[:300]!r}")
            ok += 1
        results.extend(own)

    before = meter.snapshot()
    wall = run_clients("127.0.0.1", port, concurrency, script, AUTH)
    return Cell(np.array(results), wall, meter.since(before), ok)


def history_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM mirt_ability_history")).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=2000, help="calls per cell")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="`dreamseed serve --workers`")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every cell this many times")
    parser.add_argument(
        "--before-src", help="also serve this source tree (uvloop/httptools hidden) as the baseline"
    )
    parser.add_argument(
        "--before-keeps-stack", action="store_true",
        help="serve --before-src with uvloop/httptools too (the same stack: only the code differs)",
    )  # fmt: skip
    args = parser.parse_args()
    configs = ([("before", args.before_src, 1)] if args.before_src else []) + [
        ("now", None, workers) for workers in args.workers
    ]
    rows, lost = [], []
    with scratch_database() as engine:
        populate(engine, args.users, args.attempts, args.items)
        with engine.connect() as connection:
            backend = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
        postmaster = postmaster_pid(backend)
        url = engine.url.render_as_string(hide_password=False)
        servers = []
        try:
            for label, source, workers in configs:
                port = free_port()
                server = start_server(url, port, workers, source, keep_stack=args.before_keeps_stack)
                servers.append((label, workers, port, server))
            for _, _, port, process in servers:  # warm-up: connections, item bank, caches
                timed_calls(port, CpuMeter(process.pid, postmaster), 8, 400, "update", args.users)
            for round_ in range(1, args.rounds + 1):
                for concurrency in args.concurrency:
                    for label, workers, port, process in servers:
                        meter, base = CpuMeter(process.pid, postmaster), f"http://127.0.0.1:{port}"
                        health = timed_calls(port, meter, concurrency, args.requests, "healthz", args.users)
                        inside_before = server_seconds(base, PATH)
                        rows_before = history_rows(engine)
                        update = timed_calls(port, meter, concurrency, args.requests, "update", args.users)
                        lost.append(update.ok - (history_rows(engine) - rows_before))
                        inside_after = server_seconds(base, PATH)
                        inside = (inside_after[0] - inside_before[0]) / max(
                            inside_after[1] - inside_before[1], 1
                        )
                        h99, u99 = np.percentile(health.seconds, 99), np.percentile(update.seconds, 99)
                        rows.append([
                            f"{label}, {workers} worker{'s' if workers > 1 else ''}", str(round_), str(concurrency),
                            health.ms(), f"**{update.ms()}**", f"{u99 / h99:.2f}",
                            f"{health.rate:,.0f} / **{update.rate:,.0f}**",
                            f"{inside * 1000:.1f}" if workers == 1 else "n/a",
                            update.cpu.cell(len(update.seconds)),
                        ])  # fmt: skip
        finally:
            for _, _, _, process in servers:
                process.terminate()
                process.wait(timeout=30)
    print(
        f"{args.users} users × {args.attempts} answers (last 25 days), {args.items} calibrated items, "
        f"{args.requests} requests per cell, bearer token on; client: bench.http_load (one process); "
        f"machine: {machine()}, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        markdown_table(
            [
                "server", "round", "concurrent clients", "GET /healthz p50 / p99 (ms)",
                "update-theta p50 / p99 (ms)", "update ÷ healthz (p99)", "requests/s (healthz / update)",
                "update: mean inside the server (ms)",
                "update CPU per call, ms: server / PostgreSQL / client (other load)",
            ],
            rows,
        )
    )  # fmt: skip
    print(f"θ history rows missing against successful updates, per cell: {lost} (must all be 0)")
    if any(lost):
        raise SystemExit("updates were lost")


if __name__ == "__main__":
    main()
