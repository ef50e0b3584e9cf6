"""Latency of the adaptive next-item endpoint under concurrent clients, against a real `dreamseed serve`.

    nice python -m bench.cat_http [--items 5000] [--sessions-per-client 25] [--concurrency 1 8]
    nice python -m bench.cat_http --before-src /tmp/before/src --workers 1 2   # old code, same run
    nice python -m bench.cat_http --before-src /tmp/before/src --before-keeps-stack   # same stack

On a fresh embedded PostgreSQL server: a bank of --items calibrated 3PL items (mirt_item_params)
with questions of five topics, and 1,000 known users. Starts `dreamseed serve` (--workers N), then
for each concurrency level, in the same run:
  - baseline: `GET /healthz` (HTTP, routing, one `SELECT 1`), --requests calls;
  - sessions: each client runs --sessions-per-client sessions of 20 items (`test` policy,
    no SE stop), `POST …/irt/next-item` then `POST …/irt/answer` for each item, so the session
    read grows from 0 to 20 rows; next-item and answer are timed separately.
Clients: coroutines of one low-overhead process (``bench.http_load``) on keep-alive connections,
on the same machine as the server and PostgreSQL; bearer token on. Also prints the CPU split per
call (server process tree / PostgreSQL / client) and, with --before-src, runs that source tree
(uvloop/httptools hidden) as a baseline server in the same run. Also times, in
process, the part of next-item an in-process session store would save: the session read (one
indexed SELECT of ≤ 20 rows) and the cat_events insert.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from datetime import UTC, datetime

import numpy as np
import orjson
from bench._support import machine, markdown_table, scratch_database
from bench.http_load import Connection, CpuMeter, CpuSplit, postmaster_pid, run_clients
from bench.update_theta import AUTH, free_port, server_seconds, start_server
from sqlalchemy import Engine, text

from dreamseed.irt import simulate_items
from dreamseed.storage import cat_store
from dreamseed.storage.frames import copy_rows

NEXT = "/api/seedtest/analysis/irt/next-item"
ANSWER = "/api/seedtest/analysis/irt/answer"
TOPICS = ("algebra", "geometry", "numbers", "statistics", "functions")
USERS = 1000


def populate(engine: Engine, n_items: int, seed: int = 2026) -> None:
    items = simulate_items(n_items, "3PL", seed)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        copy_rows(
            connection,
            "COPY mirt_item_params (item_id, model, params, version, run_id, fitted_at) FROM STDIN",
            (
                (
                    str(100_000 + j),
                    "3PL",
                    json.dumps({"a": float(a), "b": float(b), "c": float(c)}),
                    "v1",
                    "bench",
                    now,
                )
                for j, (a, b, c) in enumerate(zip(items.a, items.b, items.c, strict=True))
            ),
        )
        copy_rows(
            connection,
            "COPY question (id, topic_id) FROM STDIN",
            ((100_000 + j, TOPICS[j % len(TOPICS)]) for j in range(n_items)),
        )
        copy_rows(
            connection,
            "COPY session (id, user_id, status) FROM STDIN",
            ((f"user{u}-0", f"user{u}", "done") for u in range(USERS)),
        )
        connection.execute(text("ANALYZE"))


def healthz(
    port: int, meter: CpuMeter, concurrency: int, requests: int
) -> tuple[np.ndarray, float, CpuSplit]:
    timings: list[float] = []

    async def calls(connection: Connection, _index: int) -> None:
        request = connection.request_bytes("GET", "/healthz")
        for _ in range(requests // concurrency):
            started = time.perf_counter()
            _check(await connection.send(request))
            timings.append(time.perf_counter() - started)

    before = meter.snapshot()
    wall = run_clients("127.0.0.1", port, concurrency, calls, AUTH)
    return np.array(timings), wall, meter.since(before)


def sessions(
    port: int, meter: CpuMeter, concurrency: int, per_client: int, length: int
) -> tuple[dict[str, np.ndarray], float, CpuSplit]:
    """Each client runs ``per_client`` sessions of ``length`` items (next-item, then answer)."""
    timings: dict[str, list[float]] = {"next-item": [], "answer": []}

    async def calls(connection: Connection, index: int) -> None:
        rng = np.random.default_rng(index)
        for _ in range(per_client):
            body = {
                "user_id": f"user{rng.integers(USERS)}",
                "session_id": uuid.uuid4().hex,
                "max_items": length,
            }
            for _ in range(length):
                started = time.perf_counter()
                step = _check(await connection.call("POST", NEXT, orjson.dumps(body)))
                timings["next-item"].append(time.perf_counter() - started)
                if step["stop"]:
                    break
                answer = {**body, "item_id": step["item_id"], "correct": bool(rng.random() < 0.6)}
                started = time.perf_counter()
                _check(await connection.call("POST", ANSWER, orjson.dumps(answer)))
                timings["answer"].append(time.perf_counter() - started)

    before = meter.snapshot()
    wall = run_clients("127.0.0.1", port, concurrency, calls, AUTH)
    return {name: np.array(values) for name, values in timings.items()}, wall, meter.since(before)


def _check(answer: tuple[int, bytes]) -> dict[str, object]:
    status, raw = answer
    if status != 200:
        raise RuntimeError(f"unexpected answer: {status} {raw[:300]!r}")
    body = orjson.loads(raw)
    assert isinstance(body, dict)
    return body


def store_costs(engine: Engine, calls: int = 1000) -> list[list[str]]:
    """p50/p99 in process of the session read (20 rows) and the insert of one cat_events row."""
    reads, writes = [], []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for call in range(calls):
            event = {
                "user_id": "user1", "session_id": f"store-{call // 20}", "item_id": str(100_000 + call % 20),
                "position": call % 20, "topic_id": "algebra", "policy": "test", "reason": "bench",
                "theta_before": 0.0, "se_before": 1.0, "rejected": [], "version": "v1", "served_at": datetime.now(UTC),
            }  # fmt: skip
            started = time.perf_counter()
            cat_store.record_served(connection, event)
            writes.append(time.perf_counter() - started)
            started = time.perf_counter()
            cat_store.read_session(connection, "user1", f"store-{call // 20}")
            reads.append(time.perf_counter() - started)
    rows = []
    for name, values in (("session read (≤ 20 rows)", reads), ("cat_events insert", writes)):
        p50, p99 = np.percentile(np.array(values) * 1000, [50, 99])
        rows.append([name, f"{p50:.2f}", f"{p99:.2f}"])
    return rows


def _cells(seconds: np.ndarray) -> str:
    p50, p99 = np.percentile(seconds * 1000, [50, 99])
    return f"{p50:.1f} / {p99:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--sessions-per-client", type=int, default=25)
    parser.add_argument("--length", type=int, default=20)
    parser.add_argument("--requests", type=int, default=2000, help="GET /healthz calls per cell")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="`dreamseed serve --workers`")
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
    rows = []
    with scratch_database() as engine:
        populate(engine, args.items)
        with engine.connect() as connection:
            postmaster = postmaster_pid(int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one()))
        url = engine.url.render_as_string(hide_password=False)
        servers = []
        try:
            for label, source, workers in configs:
                port = free_port()
                server = start_server(url, port, workers, source, keep_stack=args.before_keeps_stack)
                servers.append((label, workers, port, server))
            for _, _, port, process in servers:  # warm-up: connections, the item bank
                sessions(port, CpuMeter(process.pid, postmaster), 2, 2, args.length)
            for concurrency in args.concurrency:
                for label, workers, port, process in servers:
                    meter, base = CpuMeter(process.pid, postmaster), f"http://127.0.0.1:{port}"
                    health, health_wall, _ = healthz(port, meter, concurrency, args.requests)
                    before = server_seconds(base, NEXT)
                    timings, wall, cpu = sessions(
                        port, meter, concurrency, args.sessions_per_client, args.length
                    )
                    after = server_seconds(base, NEXT)
                    inside = (after[0] - before[0]) / max(after[1] - before[1], 1)
                    ratio = np.percentile(timings["next-item"], 99) / np.percentile(health, 99)
                    calls = len(timings["next-item"]) + len(timings["answer"])
                    rows.append([
                        f"{label}, {workers} worker{'s' if workers > 1 else ''}", str(concurrency), _cells(health),
                        f"**{_cells(timings['next-item'])}**", _cells(timings["answer"]), f"{ratio:.2f}",
                        f"{len(health) / health_wall:,.0f} / {len(timings['next-item']) / wall:,.0f}",
                        f"{inside * 1000:.1f}" if workers == 1 else "n/a", cpu.cell(calls),
                    ])  # fmt: skip
        finally:
            for _, _, _, process in servers:
                process.terminate()
                process.wait(timeout=30)
        store = store_costs(engine)
    print(
        f"{args.items:,} calibrated 3PL items, sessions of {args.length} items ({args.sessions_per_client} per "
        f"client), {args.requests} healthz calls per cell, bearer token on; client: bench.http_load (one "
        f"process); {machine()}, load average {os.getloadavg()[0]:.1f}"
    )
    headers = [
        "server", "concurrent clients", "GET /healthz p50 / p99 (ms)", "next-item p50 / p99 (ms)",
        "answer p50 / p99 (ms)", "next-item ÷ healthz (p99)", "requests/s (healthz / next-item)",
        "next-item: mean inside the server (ms)",
        "CPU per call (next-item or answer), ms: server / PostgreSQL / client (other load)",
    ]  # fmt: skip
    print(markdown_table(headers, rows))
    print()
    print(markdown_table(["in process (PostgreSQL session store)", "p50 ms", "p99 ms"], store))


if __name__ == "__main__":
    main()
