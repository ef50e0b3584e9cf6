"""NATS JetStream behind the `EventSource` seam: the stream, the durable pull consumer, the source.

The stream keeps every subject ``dreamseed.exam_results.>`` on file storage, de-duplicates
publishes by ``Nats-Msg-Id`` (the session id) within a window, and keeps events for
STREAM_MAX_AGE_DAYS. The durable consumer acknowledges explicitly, redelivers an event unacked
after STREAM_ACK_WAIT_S, at most STREAM_MAX_DELIVER times; every worker binds to the same one, so
the server spreads the events over the workers (the scale-out a Kafka consumer group gives).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import nats
from nats.aio.client import Client
from nats.errors import ConnectionClosedError, ConnectionReconnectingError, NoRespondersError, NoServersError
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import APIError, FetchTimeoutError, NotFoundError

from dreamseed.settings import Settings
from dreamseed.stream.source import Delivery, Lag

log = logging.getLogger("dreamseed.stream")
SUBJECT_PREFIX = "dreamseed.exam_results"
UNAVAILABLE_PAUSE_S = 0.25
# While the server restarts or a cluster elects a leader: wait and ask again.
_UNAVAILABLE = (
    APIError,
    ConnectionReconnectingError,
    ConnectionClosedError,
    NoRespondersError,
    NatsTimeoutError,
)
ACK, IN_PROGRESS = b"+ACK", b"+WPI"
DUPLICATE_WINDOW = timedelta(hours=2)
MAX_ACK_PENDING = 20_000
CONNECT_ATTEMPTS = 2
CONNECT_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class StreamLayout:
    """Names and limits of the stream and its consumer (from the settings)."""

    stream: str
    consumer: str
    replicas: int
    max_age_s: float
    ack_wait_s: float
    max_deliver: int

    @classmethod
    def of(cls, settings: Settings) -> StreamLayout:
        return cls(
            settings.stream_name,
            settings.stream_consumer,
            settings.stream_replicas,
            settings.stream_max_age_days * 86_400.0,
            float(settings.stream_ack_wait_s),
            settings.stream_max_deliver,
        )

    def stream_config(self) -> StreamConfig:
        return StreamConfig(
            name=self.stream,
            subjects=[f"{SUBJECT_PREFIX}.>"],
            storage=StorageType.FILE,
            num_replicas=self.replicas,
            max_age=self.max_age_s,
            duplicate_window=DUPLICATE_WINDOW.total_seconds(),
        )

    def consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.consumer,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.ack_wait_s,
            max_deliver=self.max_deliver,
            max_ack_pending=MAX_ACK_PENDING,
            filter_subject=f"{SUBJECT_PREFIX}.>",
        )


class NatsUnreachable(ConnectionError):
    """No server of NATS_URL answered (the message names the URL and the last error)."""


async def connect(url: str, name: str = "dreamseed", attempts: int = CONNECT_ATTEMPTS) -> Client:
    """A client of the servers in ``url`` (comma-separated) that, once connected, reconnects for ever
    (a restarted server or a cluster failover is waited out).

    The first connection tries each server ``attempts`` times; if none answers it raises
    `NatsUnreachable` (quietly: the attempts are not logged one by one).
    """
    state = {"connected": False}
    errors: list[Exception] = []

    async def on_error(error: Exception) -> None:
        if state["connected"]:
            await _log_error(error)
        else:
            errors.append(error)

    async def on_disconnected() -> None:
        if state["connected"] and not client.is_closed:
            log.warning("NATS: disconnected; reconnecting")

    servers = [part.strip() for part in url.split(",") if part.strip()]
    try:
        client = await nats.connect(
            servers=servers,
            name=name,
            max_reconnect_attempts=attempts,
            reconnect_time_wait=0.25,
            connect_timeout=CONNECT_TIMEOUT_S,
            error_cb=on_error,
            disconnected_cb=on_disconnected,
            reconnected_cb=_log_reconnected,
        )
    except (NoServersError, OSError, TimeoutError, NatsError) as error:
        last = errors[-1] if errors else error
        raise NatsUnreachable(f"no NATS server answers at {url} ({_describe(last)})") from None
    state["connected"] = True
    client.options["max_reconnect_attempts"] = -1  # from now on: reconnect for ever
    return client


def _describe(error: Exception) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text[:200]}" if text else type(error).__name__


async def _log_error(error: Exception) -> None:
    log.warning("NATS: %s", _describe(error))


async def _log_reconnected() -> None:
    log.info("NATS: reconnected")


async def ensure_stream(js: JetStreamContext, layout: StreamLayout) -> None:
    """Create (or update to these settings) the stream and its durable consumer; idempotent."""
    try:
        await js.stream_info(layout.stream)
        await js.update_stream(layout.stream_config())
    except NotFoundError:
        await js.add_stream(layout.stream_config())
    await js.add_consumer(layout.stream, layout.consumer_config())


class NatsSource:
    """The durable pull consumer as an `EventSource`."""

    def __init__(self, client: Client, layout: StreamLayout) -> None:
        self.client, self.layout = client, layout
        self._js = client.jetstream()
        self._subscription: Any = None

    @classmethod
    async def open(cls, url: str, layout: StreamLayout, create: bool = True) -> NatsSource:
        client = await connect(url, "dreamseed-stream-consume")
        source = cls(client, layout)
        if create:
            await ensure_stream(source._js, layout)
        source._subscription = await source._js.pull_subscribe_bind(layout.consumer, layout.stream)
        return source

    async def fetch(self, max_events: int, timeout_s: float) -> list[Delivery]:
        try:
            messages = await self._subscription.fetch(max_events, timeout=max(timeout_s, 0.001))
        except (TimeoutError, FetchTimeoutError):
            return []
        except _UNAVAILABLE as error:
            log.warning("JetStream unavailable (%s); fetching again", type(error).__name__)
            await asyncio.sleep(UNAVAILABLE_PAUSE_S)
            return []
        return [_delivery(message) for message in messages]

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Ack each delivery: one ``+ACK`` per event written into the client's buffer without a round
        trip, then one flush for the batch. (Not AckAll: with several workers on one consumer an
        ack-all of this batch's last event would ack the others' events in hand, uncommitted.) A
        lost ack (server away) only means a redelivery, which changes nothing."""
        await self._each(deliveries, ACK)

    async def extend(self, deliveries: Sequence[Delivery]) -> None:
        await self._each(deliveries, IN_PROGRESS)

    async def _each(self, deliveries: Sequence[Delivery], payload: bytes) -> None:
        publish = self.client.publish
        try:
            for delivery in deliveries:
                await publish(delivery.handle.reply, payload)
            await self.client.flush(timeout=5)
        except _UNAVAILABLE as error:
            log.warning(
                "%s of %d events not confirmed (%s)", payload.decode(), len(deliveries), type(error).__name__
            )

    @property
    def connected(self) -> bool:
        return bool(self.client.is_connected)

    async def lag(self) -> Lag:
        info = await self._js.consumer_info(self.layout.stream, self.layout.consumer)
        return Lag(int(info.num_pending or 0), int(info.num_ack_pending or 0), int(info.ack_floor.stream_seq))

    async def close(self) -> None:
        """Close the connection; a server already gone is not an error (nothing is left unsent that
        matters: an ack that does not arrive only means a redelivery)."""
        if not self.client.is_closed:
            try:
                await self.client.close()
            except (OSError, *_UNAVAILABLE) as error:
                log.warning("NATS: closed without the server (%s)", type(error).__name__)


def _delivery(message: Any) -> Delivery:
    metadata = message.metadata
    return Delivery(
        data=message.data,
        sequence=int(metadata.sequence.stream),
        subject=message.subject,
        delivered=int(metadata.num_delivered),
        published_at=metadata.timestamp,
        handle=message,
        pending=int(metadata.num_pending) if metadata.num_pending is not None else None,
    )
