"""The seam between the consumer loop and a broker: what a source delivers and what it must do.

`EventSource` is all the consumer knows of NATS JetStream (`dreamseed.stream.nats_source`); a
Kafka source would implement the same four calls (see docs/STREAMING.md for the mapping). Tests
and benchmarks use the real NATS server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class Delivery:
    """One delivered event: its bytes, its position in the stream (the quarantine's line number),
    how many times it has been delivered, when it was published, how many events were still
    pending behind it when it was delivered (None if the source cannot tell), and the source's
    own handle."""

    data: bytes
    sequence: int
    subject: str
    delivered: int
    published_at: datetime | None
    handle: Any = field(default=None, repr=False, compare=False)
    pending: int | None = None


@dataclass(frozen=True)
class Lag:
    """How far the consumer is behind: events not yet delivered, delivered but unacked, and the
    stream sequence acked last."""

    pending: int
    unacked: int
    acked_sequence: int


class EventSource(Protocol):
    """A durable, shared subscription: several workers may read from one at once."""

    async def fetch(self, max_events: int, timeout_s: float) -> list[Delivery]:
        """Up to ``max_events`` deliveries; empty when none came within ``timeout_s``. What is
        available returns at once; only when nothing is does it wait (at most ``timeout_s``, and then
        possibly for more than the first)."""
        ...

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        """Done with these: they are never delivered again (call only after they are committed)."""
        ...

    async def extend(self, deliveries: Sequence[Delivery]) -> None:
        """Still working on these (e.g. waiting for the database): do not redeliver them yet."""
        ...

    async def lag(self) -> Lag: ...

    @property
    def connected(self) -> bool:
        """Connected to the broker now (the worker's readiness)."""
        ...

    async def close(self) -> None: ...
