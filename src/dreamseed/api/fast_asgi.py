"""What the plain-ASGI fast paths share (``fast_paths``, ``cat_fast_paths``): reading and replaying
the body, the JSON answer, the route label for the metrics, and retrying work on a fresh pooled
connection when the connection broke."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import psycopg
from pydantic import BaseModel
from starlette.types import Message, Receive, Send

from dreamseed.api.deps import ServiceState
from dreamseed.api.json_body import JsonLimits, check_shape

Model = TypeVar("Model", bound=BaseModel)
Answer = tuple[int, dict[str, Any]]  # HTTP status, JSON body
_JSON_HEADERS = [(b"content-type", b"application/json")]
_ORJSON = orjson.OPT_UTC_Z | orjson.OPT_SERIALIZE_NUMPY


@dataclass(frozen=True)
class Route:
    """What ``RequestMetrics`` reads of ``scope["route"]``: the path template."""

    path: str


class Delegate(Exception):
    """The request is not the common case: the FastAPI route answers it."""


async def read_body(receive: Receive) -> bytes:
    """The whole request body (Delegate on a disconnect before it)."""
    chunks, more = [], True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            raise Delegate  # pragma: no cover - a disconnect before the body: nothing to answer
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` that first gives the already-read ``body`` back (for the route)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def send_json(send: Send, status: int, answer: dict[str, Any]) -> None:
    """The answer as JSON (datetimes in UTC with Z, numpy scalars as numbers), one body message."""
    payload = orjson.dumps(answer, option=_ORJSON)
    headers = [*_JSON_HEADERS, (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def validated(body: bytes, model: type[Model], limits: JsonLimits) -> Model:
    """The body as ``model``, or Delegate (the route then gives the exact 4xx)."""
    try:
        value = orjson.loads(body)
        check_shape(value, limits)
        return model.model_validate(value)
    except Exception:
        raise Delegate from None


async def with_retry(
    service: ServiceState, work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[Any]]
) -> Any:
    """``work`` on a pooled connection; once more on a fresh one when the connection broke."""
    assert service.fast_pool is not None
    for attempt in (1, 2):
        try:
            async with service.fast_pool.connection() as connection:
                return await work(connection)
        except (psycopg.OperationalError, psycopg.InterfaceError):
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
