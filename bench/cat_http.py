"""Latency of the adaptive next-item endpoint under concurrent clients, against a real `dreamseed serve`.

    nice python -m bench.cat_http [--items 5000] [--sessions-per-client 25] [--concurrency 1 8]

On a fresh embedded PostgreSQL server: a bank of --items calibrated 3PL items (mirt_item_params)
with questions of five topics, and 1,000 known users. Starts `dreamseed serve` (one process), then
for each concurrency level, in the same run:
  - baseline: `GET /healthz` (HTTP, routing, one `SELECT 1`), --requests calls;
  - sessions: each client thread runs --sessions-per-client sessions of 20 items (`test` policy,
    no SE stop), `POST …/irt/next-item` then `POST …/irt/answer` for each item, so the session
    read grows from 0 to 20 rows; next-item and answer are timed separately.
Keep-alive connections; clients on the same machine as the server and PostgreSQL. Also times, in
process, the part of next-item an in-process session store would save: the session read (one
indexed SELECT of ≤ 20 rows) and the cat_events insert.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from datetime import UTC, datetime

import httpx
import numpy as np
from bench._support import machine, markdown_table, scratch_database
from bench.update_theta import free_port, server_seconds, start_server
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


def healthz(base: str, concurrency: int, requests: int) -> tuple[np.ndarray, float]:
    def calls(client: httpx.Client, _rng: np.random.Generator, own: dict[str, list[float]]) -> None:
        for _ in range(requests // concurrency):
            started = time.perf_counter()
            _check(client.get("/healthz"))
            own["healthz"].append(time.perf_counter() - started)

    timings, wall = _run(base, concurrency, calls)
    return timings["healthz"], wall


def sessions(
    base: str, concurrency: int, per_client: int, length: int
) -> tuple[dict[str, np.ndarray], float]:
    def calls(client: httpx.Client, rng: np.random.Generator, own: dict[str, list[float]]) -> None:
        for _ in range(per_client):
            body = {
                "user_id": f"user{rng.integers(USERS)}",
                "session_id": uuid.uuid4().hex,
                "max_items": length,
            }
            for _ in range(length):
                started = time.perf_counter()
                step = _check(client.post(NEXT, json=body))
                own["next-item"].append(time.perf_counter() - started)
                if step["stop"]:
                    break
                started = time.perf_counter()
                _check(
                    client.post(
                        ANSWER, json={**body, "item_id": step["item_id"], "correct": bool(rng.random() < 0.6)}
                    )
                )
                own["answer"].append(time.perf_counter() - started)

    return _run(base, concurrency, calls)


def _check(answer: httpx.Response) -> dict[str, object]:
    if answer.status_code != 200:
        raise RuntimeError(f"unexpected answer: {answer.status_code} {answer.text}")
    body = answer.json()
    assert isinstance(body, dict)
    return body


def _run(base: str, concurrency: int, calls) -> tuple[dict[str, np.ndarray], float]:  # type: ignore[no-untyped-def]
    results: dict[str, list[float]] = {"healthz": [], "next-item": [], "answer": []}
    lock = threading.Lock()

    def worker(index: int) -> None:
        own: dict[str, list[float]] = {name: [] for name in results}
        with httpx.Client(base_url=base, timeout=30) as client:
            calls(client, np.random.default_rng(index), own)
        with lock:
            for name, values in own.items():
                results[name].extend(values)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {name: np.array(values) for name, values in results.items()}, time.perf_counter() - started


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
    args = parser.parse_args()
    rows = []
    with scratch_database() as engine:
        populate(engine, args.items)
        port = free_port()
        server = start_server(engine.url.render_as_string(hide_password=False), port)
        base = f"http://127.0.0.1:{port}"
        try:
            sessions(base, 2, 2, args.length)  # warm-up: connections, the item bank
            for concurrency in args.concurrency:
                health, health_wall = healthz(base, concurrency, args.requests)
                before = server_seconds(base, NEXT)
                timings, wall = sessions(base, concurrency, args.sessions_per_client, args.length)
                after = server_seconds(base, NEXT)
                inside = (after[0] - before[0]) / max(after[1] - before[1], 1)
                ratio = np.percentile(timings["next-item"], 99) / np.percentile(health, 99)
                rows.append([
                    str(concurrency), _cells(health), _cells(timings["next-item"]), _cells(timings["answer"]),
                    f"{ratio:.2f}", f"{len(health) / health_wall:,.0f} / {len(timings['next-item']) / wall:,.0f}",
                    f"{inside * 1000:.1f}",
                ])  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=30)
        store = store_costs(engine)
    print(
        f"{args.items:,} calibrated 3PL items, sessions of {args.length} items ({args.sessions_per_client} per "
        f"client), {args.requests} healthz calls per cell; server: `dreamseed serve` (one process); {machine()}"
    )
    headers = [
        "concurrent clients", "GET /healthz p50 / p99 (ms)", "next-item p50 / p99 (ms)", "answer p50 / p99 (ms)",
        "next-item ÷ healthz (p99)", "requests/s (healthz / next-item)", "next-item: mean time inside the server (ms)",
    ]  # fmt: skip
    print(markdown_table(headers, rows))
    print()
    print(markdown_table(["in process (PostgreSQL session store)", "p50 ms", "p99 ms"], store))


if __name__ == "__main__":
    main()
