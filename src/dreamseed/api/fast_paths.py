"""The fast paths in plain ASGI: `POST /api/seedtest/analysis/irt/update-theta` (here) and the
adaptive `…/irt/next-item` and `…/irt/answer` (``cat_fast_paths``).

The route in ``routes/analysis.py`` stays the contract (OpenAPI, every error answer); this
middleware answers the common case before FastAPI's routing, dependency resolution and response
model run, and hands everything else to that route with the body replayed, so every 4xx is the
route's own. Answered here: a body that validates as ``UpdateThetaRequest`` whose ``version`` is
absent or MIRT_VERSION. The work runs on the event loop, without a worker thread: the answers
are read and θ written on an async psycopg connection from ``ServiceState.fast_pool`` (two
prepared statements, autocommit, the write committed asynchronously as before), EAP runs
in-process (~0.2 ms at 1,000 answers), and the answer is serialised with orjson. A broken
connection is dropped and the call retried once on a fresh one: both statements are idempotent
(the run_id is chosen before the first try). The item bank is refreshed in a worker thread
through the engine when its check interval has passed.

It sits inside ``RequestGuard`` (token, body limits) and ``RequestMetrics`` (it sets
``scope["route"]`` to the route's template, so the request is counted under the same label).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import psycopg
from starlette.types import ASGIApp, Receive, Scope, Send

from dreamseed.api import cat_fast_paths
from dreamseed.api.deps import ServiceState
from dreamseed.api.fast_asgi import (
    Answer,
    Delegate,
    Route,
    read_body,
    replay,
    send_json,
    validated,
    with_retry,
)
from dreamseed.api.middleware import BodyTooLarge
from dreamseed.api.routes.analysis import LIMITS, MAX_ANSWERS
from dreamseed.api.schemas import UpdateThetaRequest
from dreamseed.runtime.item_banks import ItemBank
from dreamseed.storage import irt_service

UPDATE_THETA = "/api/seedtest/analysis/irt/update-theta"
Handler = Callable[[ServiceState, bytes], Awaitable[Answer]]


class FastPaths:
    """Answers the common case of the fast paths' endpoints itself; passes every other request to
    ``app`` (the FastAPI routes), the body replayed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.handlers: dict[str, tuple[Handler, Route]] = {
            path: (handler, Route(path))
            for path, handler in (
                (UPDATE_THETA, _update_theta_answer),
                (cat_fast_paths.NEXT_ITEM, cat_fast_paths.next_item),
                (cat_fast_paths.ANSWER, cat_fast_paths.answer),
            )
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = self.handlers.get(scope["path"]) if scope["type"] == "http" else None
        if fast is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        service = getattr(scope["app"].state, "service", None)
        if not isinstance(service, ServiceState) or service.fast_pool is None:
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(receive)
        except BodyTooLarge as error:
            await send_json(send, 413, {"error": error.detail})
            return
        handler, scope["route"] = fast
        try:
            status, answer = await handler(service, body)
        except Delegate:
            await self.app(scope, replay(body, receive), send)
            return
        except Exception as error:  # as the app's handler of unexpected errors answers
            await send_json(send, 500, {"error": f"internal_error: {type(error).__name__}"})
            return
        await send_json(send, status, answer)


def _request_of(body: bytes, service: ServiceState) -> UpdateThetaRequest:
    """The validated request, or Delegate (the route then gives the exact 400/404/422)."""
    request = validated(body, UpdateThetaRequest, LIMITS)
    if request.version is not None and request.version != service.settings.mirt_version:
        raise Delegate  # the route checks that the version exists (404)
    return request


async def _update_theta_answer(service: ServiceState, body: bytes) -> Answer:
    return 200, await _update_theta(service, body)


async def _update_theta(service: ServiceState, body: bytes) -> dict[str, Any]:
    request = _request_of(body, service)
    version = service.settings.mirt_version
    bank = await _bank(service, version, request.model)
    if bank.scorer is None:
        return _noop(
            service, request.user_id, f"no calibrated items for version {version}; run mirt-calibrate"
        )
    now = datetime.now(UTC)
    run_id = f"online-{request.session_id}" if request.session_id else f"online-{uuid.uuid4().hex}"
    since = now - timedelta(days=request.lookback_days)
    estimate = await with_retry(service, lambda c: _rescore(c, bank, request, since, run_id, now))
    if estimate is None:
        return _noop(
            service,
            request.user_id,
            f"no answers on calibrated items in the last {request.lookback_days} days",
        )
    service.metrics.theta_updates.labels("ok").inc()
    answer = {
        "status": "ok",
        "user_id": request.user_id,
        "theta": estimate.theta,
        "se": estimate.se,
        "model": bank.model,
        "version": version,
        "updated_at": now,
        "n_responses": estimate.n_responses,
    }
    if request.session_id is not None:
        answer["session_id"] = request.session_id
    return answer


async def _rescore(
    connection: psycopg.AsyncConnection[Any],
    bank: ItemBank,
    request: UpdateThetaRequest,
    since: datetime,
    run_id: str,
    now: datetime,
) -> Any:
    assert bank.scorer is not None
    items, correct = await irt_service.read_recent_answers_packed(
        connection, request.user_id, since, MAX_ANSWERS
    )
    estimate = bank.scorer.score(items, correct)
    if estimate.n_responses == 0:
        return None
    await irt_service.record_online_theta_async(
        connection,
        user_id=request.user_id,
        run_id=run_id,
        theta=estimate.theta,
        se=estimate.se,
        model=bank.model,
        version=bank.version,
        fitted_at=now,
    )
    return estimate


async def _bank(service: ServiceState, version: str, model: str | None) -> ItemBank:
    bank = service.item_banks.fresh(version, model)
    if bank is not None:
        return bank

    def load() -> ItemBank:
        with service.engine.connect() as connection:
            return service.item_banks.get(connection, version, model)

    return await anyio.to_thread.run_sync(load)


def _noop(service: ServiceState, user_id: str, message: str) -> dict[str, Any]:
    service.metrics.theta_updates.labels("noop").inc()
    return {"status": "noop", "user_id": user_id, "message": message}
