"""The consumer loop: fetch a batch, land it in one transaction, and only then acknowledge it.

At-least-once delivery plus the loader's upsert by session_id gives exactly-once effects: a
worker killed before its commit leaves the batch unacked (redelivered after STREAM_ACK_WAIT_S);
killed after its commit, the redelivered events change nothing and update no θ. While the database
is unavailable the worker keeps the batch, tells the broker it is still working on it, and retries
with backoff; it never acks what is not committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError, OperationalError

from dreamseed.stream.landing import BatchLander, Landed
from dreamseed.stream.metrics import StreamMetrics
from dreamseed.stream.source import Delivery, EventSource

log = logging.getLogger("dreamseed.stream")
POLL_S = 1.0
MAX_BACKOFF_S = 10.0


@dataclass(frozen=True)
class BatchLimits:
    """Up to ``size`` events, or what came within ``wait_s`` after the batch's first event."""

    size: int
    wait_s: float


@dataclass
class Totals:
    batches: int = 0
    events: int = 0
    quarantined: int = 0
    thetas: int = 0


def _is_outage(error: BaseException) -> bool:
    """The database is unreachable (retry the same batch), as opposed to a fault of the data."""
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and bool(error.connection_invalidated)
    )


async def collect_batch(source: EventSource, limits: BatchLimits, poll_s: float = POLL_S) -> list[Delivery]:
    """Wait up to ``poll_s`` for a first event, then gather more for at most ``limits.wait_s``."""
    batch = await source.fetch(limits.size, poll_s)
    if not batch:
        return batch
    deadline = time.monotonic() + limits.wait_s
    while len(batch) < limits.size and (remaining := deadline - time.monotonic()) > 0:
        more = await source.fetch(limits.size - len(batch), remaining)
        if not more:
            break
        batch.extend(more)
    return batch


async def land_until_committed(
    land: Callable[[Sequence[Delivery]], Landed],
    source: EventSource,
    batch: Sequence[Delivery],
    stop: asyncio.Event,
    metrics: StreamMetrics,
) -> Landed | None:
    """`land(batch)` in a thread, retried with backoff while the database is out (None: stopped first)."""
    backoff = 0.25
    while True:
        try:
            return await asyncio.to_thread(land, batch)
        except Exception as error:
            if not _is_outage(error):
                raise
            metrics.retries.inc()
            log.warning(
                "database unavailable (%s); batch of %d held, retry in %.1fs",
                type(error).__name__,
                len(batch),
                backoff,
            )
        if stop.is_set():
            return None
        await source.extend(batch)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_S)


async def consume(
    source: EventSource,
    lander: BatchLander,
    limits: BatchLimits,
    stop: asyncio.Event,
    metrics: StreamMetrics | None = None,
    on_batch: Callable[[Landed], None] | None = None,
) -> Totals:
    """Run until ``stop`` is set; the batch in hand is finished (committed and acked) first."""
    metrics = metrics or StreamMetrics()
    totals = Totals()
    while not stop.is_set():
        batch = await collect_batch(source, limits)
        if not batch:
            metrics.oldest_age.set(0)
            continue
        started = time.perf_counter()
        _observe_age(metrics, batch)
        for landed, done in await _land(lander, source, batch, stop, metrics):
            await source.ack(done)
            _count(metrics, totals, landed, done)
            if on_batch is not None:
                on_batch(landed)
        metrics.batch_seconds.observe(time.perf_counter() - started)
    return totals


async def _land(
    lander: BatchLander,
    source: EventSource,
    batch: list[Delivery],
    stop: asyncio.Event,
    metrics: StreamMetrics,
) -> list[tuple[Landed, list[Delivery]]]:
    """The batch landed whole; if the data (not the database) fails it, each event alone: the one that
    fails alone stays unacked, is redelivered, and is quarantined on its last delivery."""
    try:
        landed = await land_until_committed(lander.land, source, batch, stop, metrics)
        return [] if landed is None else [(landed, batch)]
    except Exception:
        if len(batch) == 1:
            log.exception("event %d failed; left for redelivery", batch[0].sequence)
            return []
        log.exception("batch of %d failed; landing its events one by one", len(batch))
    done = []
    for delivery in batch:
        done.extend(await _land(lander, source, [delivery], stop, metrics))
    return done


def _observe_age(metrics: StreamMetrics, batch: Sequence[Delivery]) -> None:
    stamps = [d.published_at for d in batch if d.published_at is not None]
    if stamps:
        metrics.oldest_age.set(max(0.0, (datetime.now(UTC) - min(stamps)).total_seconds()))


def _count(metrics: StreamMetrics, totals: Totals, landed: Landed, done: Sequence[Delivery]) -> None:
    now = datetime.now(UTC)
    for delivery in done:
        if delivery.published_at is not None:
            metrics.latency.observe(max(0.0, (now - delivery.published_at).total_seconds()))
    rejected = len(landed.summary.rejected)
    metrics.consumed.inc(len(done))
    metrics.quarantined.inc(rejected)
    metrics.thetas.inc(landed.thetas)
    metrics.batch_size.observe(len(done))
    totals.batches += 1
    totals.events += len(done)
    totals.quarantined += rejected
    totals.thetas += landed.thetas
