"""Request bodies parsed off the event loop: orjson, bounded depth and array lengths, then pydantic.

A route calls ``await read_body(request, Model, limits)`` only when the size guard
(``dreamseed.api.middleware.RequestGuard``) has let the bytes through. Parsing and validation run in
a worker thread, so ``/healthz`` answers while a 30 MB calibration body is being read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio.to_thread
import orjson
from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

Model = TypeVar("Model", bound=BaseModel)
Result = TypeVar("Result")


@dataclass(frozen=True)
class JsonLimits:
    """Deepest nesting and longest array a body may hold (422 beyond either)."""

    max_depth: int = 16
    max_array: int = 10_000


def check_shape(value: Any, limits: JsonLimits) -> None:
    """HTTPException 422 when ``value`` nests deeper or holds a longer array than ``limits`` allow."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.max_depth:
            raise HTTPException(422, f"invalid request: JSON nested deeper than {limits.max_depth} levels")
        if isinstance(node, list):
            if len(node) > limits.max_array:
                raise HTTPException(
                    422, f"invalid request: an array holds {len(node)} elements (at most {limits.max_array})"
                )
            stack.extend((child, depth + 1) for child in node if isinstance(child, list | dict))
        elif isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values() if isinstance(child, list | dict))


def parse_body(body: bytes, model: type[Model], limits: JsonLimits) -> Model:
    """The validated body: 422 (RequestValidationError or HTTPException) when it is not JSON, too
    deep or long, or does not fit ``model``. orjson rejects unpaired surrogate escapes."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": f"JSON decode error: {error}", "input": {}}]
        ) from None
    check_shape(value, limits)
    try:
        return model.model_validate(value)
    except ValidationError as error:
        errors = [{**problem, "loc": ("body", *problem["loc"])} for problem in error.errors()]
        raise RequestValidationError(errors) from None


async def handle_body(
    request: Request, model: type[Model], limits: JsonLimits, work: Callable[[Model], Result]
) -> Result:
    """Read the body, then parse, validate and run ``work`` on it in a worker thread."""
    body = await request.body()

    def run() -> Result:
        return work(parse_body(body, model, limits))

    return await anyio.to_thread.run_sync(run)
