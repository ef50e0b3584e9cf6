"""The consumer loop: fetch a batch, land it in one transaction, and only then acknowledge it.

At-least-once delivery plus the loader's upsert by session_id gives exactly-once effects: a
worker killed before its commit leaves the batch unacked (redelivered after STREAM_ACK_WAIT_S);
killed after its commit, the redelivered events change nothing and update no θ. While the database
is unavailable the worker keeps the batch, tells the broker it is still working on it, and retries
with backoff; it never acks what is not committed. The next batch is fetched while one lands, and
the seconds of each phase go to ``dreamseed_stream_batch_seconds{phase}`` (`dreamseed.stream.phases`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError, OperationalError

from dreamseed.stream.landing import BatchLander, Checked, Landed
from dreamseed.stream.metrics import StreamMetrics
from dreamseed.stream.source import Delivery, EventSource

log = logging.getLogger("dreamseed.stream")
POLL_S = 1.0
SLICE_S = 0.01
MIN_FETCH_S = 0.001
MAX_BACKOFF_S = 10.0


@dataclass(frozen=True)
class BatchLimits:
    """Up to ``size`` events, or what came within ``wait_s`` after the batch's first event; under a
    backlog (the broker reports at least ``size`` more events pending) up to ``max_size``."""

    size: int
    wait_s: float
    max_size: int = 0

    @property
    def largest(self) -> int:
        return max(self.size, self.max_size)


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


async def collect_batch(
    source: EventSource, limits: BatchLimits, poll_s: float = POLL_S, busy: Callable[[], bool] = lambda: False
) -> list[Delivery]:
    """Wait up to ``poll_s`` for a first event, then gather more, in fetches of at most ``SLICE_S``.

    What is already in the stream comes at once. While ``busy()`` (the worker is still landing the
    previous batch, so this one could not land earlier anyway) it also waits for more up to
    ``limits.wait_s`` after the first event; otherwise it stops at the first fetch that brings
    nothing. While the last event reports ``limits.size`` or more still pending, the batch grows to
    ``limits.largest``, past ``limits.wait_s`` as long as events are pending.
    """
    batch = await source.fetch(1, poll_s)
    if not batch:
        return batch
    deadline = time.monotonic() + limits.wait_s
    target, backlog = _target(limits, batch[-1]), _behind(batch[-1])
    while len(batch) < target:
        remaining = deadline - time.monotonic()
        if remaining <= 0 and not backlog:
            break
        more = await source.fetch(target - len(batch), min(max(remaining, MIN_FETCH_S), SLICE_S))
        if not more:
            if busy() and remaining > SLICE_S:
                backlog = False
                continue
            break
        batch.extend(more)
        target, backlog = max(target, _target(limits, more[-1])), _behind(more[-1])
    return batch


def _behind(last: Delivery) -> bool:
    return last.pending is not None and last.pending > 0


def _target(limits: BatchLimits, last: Delivery) -> int:
    return limits.largest if last.pending is not None and last.pending >= limits.size else limits.size


async def land_until_committed(
    land: Callable[[Sequence[Delivery]], Landed],
    source: EventSource,
    batch: Sequence[Delivery],
    stop: asyncio.Event,
    metrics: StreamMetrics,
    held: Callable[[], Sequence[Delivery]] = lambda: (),
) -> Landed | None:
    """`land(batch)` in a thread, retried with backoff while the database is out (None: stopped first).

    While it waits, the batch and ``held()`` (the next batch, fetched meanwhile) are extended, so the
    broker does not hand them to another worker."""
    backoff = 0.25
    while True:
        try:
            return await asyncio.to_thread(land, batch)
        except Exception as error:
            if not _is_outage(error):
                raise
            metrics.retries.inc()
            metrics.mark_database(False)
            log.warning(
                "database unavailable (%s); batch of %d held, retry in %.1fs",
                type(error).__name__,
                len(batch),
                backoff,
            )
        if stop.is_set():
            return None
        await source.extend([*batch, *held()])
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_S)


class _Prefetch:
    """The next batch, fetched and checked while the current one lands (its events are not acked
    before their own commit: fetching early only starts their ack wait sooner)."""

    def __init__(self, source: EventSource, lander: BatchLander, limits: BatchLimits) -> None:
        self.source, self.lander, self.limits = source, lander, limits
        self.task: asyncio.Task[tuple[list[Delivery], Checked | None, float]] | None = None
        self.waiting = True  # the loop waits for this batch (no batch is landing)

    async def _next(self) -> tuple[list[Delivery], Checked | None, float]:
        started = time.perf_counter()
        batch = await collect_batch(self.source, self.limits, busy=lambda: not self.waiting)
        fetch_s = time.perf_counter() - started
        checked = await asyncio.to_thread(self.lander.check, batch) if batch else None
        return batch, checked, fetch_s

    def start(self) -> None:
        self.waiting = False
        self.task = asyncio.create_task(self._next())

    def held(self) -> Sequence[Delivery]:
        task = self.task
        if task is None or not task.done() or task.cancelled() or task.exception() is not None:
            return ()
        return task.result()[0]

    async def take(self) -> tuple[list[Delivery], Checked | None, float]:
        """The next batch, its check and the seconds the loop waited for it (overlapped: only the
        part after the previous batch was acked)."""
        task, self.task = self.task, None
        waited = time.perf_counter()
        self.waiting = True
        if task is None:
            return await self._next()
        batch, checked, _ = await task
        return batch, checked, time.perf_counter() - waited

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()


async def consume(
    source: EventSource,
    lander: BatchLander,
    limits: BatchLimits,
    stop: asyncio.Event,
    metrics: StreamMetrics | None = None,
    on_batch: Callable[[Landed], None] | None = None,
) -> Totals:
    """Run until ``stop`` is set; the batch in hand (and one fetched meanwhile) is finished
    (committed and acked) first.

    While a batch lands (in a thread), the next one is fetched and checked; batches still land one
    after the other, and each is acked only after its own commit.
    """
    metrics = metrics or StreamMetrics()
    totals = Totals()
    prefetch = _Prefetch(source, lander, limits)
    try:
        while not stop.is_set() or prefetch.task is not None:
            batch, checked, fetch_s = await prefetch.take()
            if not batch:
                metrics.oldest_age.set(0)
                continue
            started = time.perf_counter()
            _observe_age(metrics, batch)
            landing = asyncio.create_task(_land(lander, source, batch, checked, stop, metrics, prefetch.held))
            if not stop.is_set():
                prefetch.start()
            for landed, done in await landing:
                acking = time.perf_counter()
                await source.ack(done)
                landed.phases.add("ack", time.perf_counter() - acking)
                landed.phases.add("fetch", fetch_s)
                metrics.observe_phases(landed.phases.seconds)
                _count(metrics, totals, landed, done)
                if on_batch is not None:
                    on_batch(landed)
            metrics.batch_seconds.labels("total").observe(time.perf_counter() - started)
    finally:
        prefetch.cancel()
    return totals


async def _land(
    lander: BatchLander,
    source: EventSource,
    batch: list[Delivery],
    checked: Checked | None,
    stop: asyncio.Event,
    metrics: StreamMetrics,
    held: Callable[[], Sequence[Delivery]],
) -> list[tuple[Landed, list[Delivery]]]:
    """The batch landed whole; if the data (not the database) fails it, each event alone: the one that
    fails alone stays unacked, is redelivered, and is quarantined on its last delivery."""
    try:
        landed = await land_until_committed(
            functools.partial(lander.land, checked=checked), source, batch, stop, metrics, held
        )
        if landed is None:
            return []
        metrics.mark_database(True)
        return [(landed, batch)]
    except Exception:
        if len(batch) == 1:
            log.exception("event %d failed; left for redelivery", batch[0].sequence)
            return []
        log.exception("batch of %d failed; landing its events one by one", len(batch))
    done = []
    for delivery in batch:
        done.extend(await _land(lander, source, [delivery], None, stop, metrics, held))
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
