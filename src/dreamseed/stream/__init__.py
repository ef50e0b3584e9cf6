"""Real-time ingestion: finished exam sessions from a NATS JetStream stream, landed exactly once.

`EventSource` is the seam (`source`), `NatsSource` its NATS implementation (`nats_source`),
`publish_events` the producer (`publisher`), `consume` the worker loop (`worker`), and
`BatchLander` the one-transaction write of a batch through the file loader (`landing`).
"""

from dreamseed.stream.landing import BatchLander, Landed
from dreamseed.stream.source import Delivery, EventSource, Lag
from dreamseed.stream.worker import BatchLimits, consume

__all__ = ["BatchLander", "BatchLimits", "Delivery", "EventSource", "Lag", "Landed", "consume"]
