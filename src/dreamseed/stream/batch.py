"""A batch of deliveries as the file loader's records: the same line check, with the stream
sequence as the line number, so a rejected event is found in ingest_quarantine by its sequence."""

from __future__ import annotations

from collections.abc import Sequence

from dreamseed.ingest.limits import DateWindow
from dreamseed.ingest.records import ExamResultRow, Rejected, check_exam_result
from dreamseed.stream.source import Delivery

KEPT_PREFIX_BYTES = 2_000


def checked_records(
    deliveries: Sequence[Delivery], window: DateWindow, max_event_bytes: int, max_deliver: int
) -> list[ExamResultRow | Rejected]:
    """Each delivery checked as a line of an exam-results file (`check_exam_result`).

    Rejected without being read: an event over ``max_event_bytes`` (its first bytes are kept), and
    one on its last allowed delivery (it was delivered ``max_deliver`` times without being committed,
    e.g. it keeps killing workers): quarantined and acked rather than dropped by the broker.
    """
    return [_checked(delivery, window, max_event_bytes, max_deliver) for delivery in deliveries]


def _checked(
    delivery: Delivery, window: DateWindow, max_event_bytes: int, max_deliver: int
) -> ExamResultRow | Rejected:
    size = len(delivery.data)
    if size > max_event_bytes:
        prefix = delivery.data[:KEPT_PREFIX_BYTES].decode("utf-8", errors="replace")
        return Rejected(delivery.sequence, f"event of {size} bytes exceeds {max_event_bytes} bytes", prefix)
    text = delivery.data.decode("utf-8", errors="surrogateescape")
    if delivery.delivered >= max_deliver:
        reason = f"delivered {delivery.delivered} times without being committed"
        return Rejected(delivery.sequence, reason, text)
    return check_exam_result(delivery.sequence, text, window)
