"""What the platform's producer does: one message per finished session on
``dreamseed.exam_results.<org_id>``, with ``Nats-Msg-Id`` = session_id so the stream drops a
repeated publish within its de-duplication window.

An event is published as it is: the consumer checks it (a line the file loader would reject is
quarantined there, with its stream sequence). A line that is not a JSON object with a session id
goes to ``dreamseed.exam_results.unknown`` without a message id.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from nats.js import JetStreamContext

from dreamseed.stream.nats_source import SUBJECT_PREFIX

IN_FLIGHT = 1_000
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Published:
    """What a publish did: events sent, those the stream dropped as duplicates, the last sequence."""

    sent: int
    duplicates: int
    last_sequence: int


def event_subject(event: bytes) -> tuple[str, str | None]:
    """The subject (by org_id; ``unknown`` without one) and the message id (the session id) of an event."""
    try:
        document = orjson.loads(event)
    except orjson.JSONDecodeError:
        return f"{SUBJECT_PREFIX}.unknown", None
    if not isinstance(document, dict):
        return f"{SUBJECT_PREFIX}.unknown", None
    org, session = document.get("org_id"), document.get("session_id")
    org_token = str(org) if org is not None and not isinstance(org, bool) else "none"
    subject = f"{SUBJECT_PREFIX}.{org_token if _TOKEN.fullmatch(org_token) else 'unknown'}"
    has_session = isinstance(session, str | int) and not isinstance(session, bool) and str(session).strip()
    return subject, str(session).strip() if has_session else None


async def publish_events(js: JetStreamContext, events: Iterable[bytes], stream: str) -> Published:
    """Publish every event, ``IN_FLIGHT`` at a time, each acknowledged by the stream (stored on disk)."""
    sent = duplicates = last = 0
    window: list[asyncio.Future[Any]] = []

    async def settle() -> None:
        nonlocal duplicates, last
        for ack in await asyncio.gather(*window):
            duplicates += bool(ack.duplicate)
            last = max(last, int(ack.seq))
        window.clear()

    for event in events:
        subject, message_id = event_subject(event)
        headers = {"Nats-Msg-Id": message_id} if message_id else None
        window.append(await js.publish_async(subject, event, headers=headers, stream=stream))
        sent += 1
        if len(window) >= IN_FLIGHT:
            await settle()
    await settle()
    return Published(sent, duplicates, last)


def file_events(lines: Iterable[bytes]) -> Iterable[bytes]:
    """The events of a JSON Lines file: every non-blank line, without its line ending."""
    for line in lines:
        event = line.rstrip(b"\r\n")
        if event.strip():
            yield event
