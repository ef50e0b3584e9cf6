"""The adaptive endpoints' fast path: `POST …/irt/next-item` and `POST …/irt/answer` in plain ASGI.

Called by ``fast_paths.FastPaths`` (inside the token/size guard and the metrics) for the common
case; the routes in ``routes/cat.py`` stay the contract and answer everything else: a body that
does not validate, an empty or unreadable bank, an unknown user, a bad answers_so_far, an item not
served or already answered — every 4xx is the route's own (the fast path raises ``Delegate``
before writing anything, and the route computes the answer again). The work is the route's
(``cat_service.choose_next_item`` / ``score_answer``: same code, same answers) on the event loop,
without a worker thread, on an async psycopg connection from ``ServiceState.fast_pool`` with
prepared statements: next-item is **two** round trips (one read of everything it needs, one
insert), answer two (session read, update). A broken connection is dropped and the work retried
once on a fresh one (the reads are idempotent; an insert or update that committed before the
connection broke makes the retry serve the next item, or answer 409 "already answered").
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import psycopg
from fastapi import HTTPException

from dreamseed.api.cat_service import (
    CAT_BANK_KEY,
    CatBank,
    NextItemAsk,
    SessionState,
    Start,
    already_answered,
    cat_bank,
    choose_next_item,
    exclusion_since,
    score_answer,
    served_conflict,
)
from dreamseed.api.deps import ServiceState
from dreamseed.api.fast_asgi import Answer, Delegate, validated, with_retry
from dreamseed.api.routes.cat import LIMITS, AnswerRequest, NextItemRequest
from dreamseed.storage import cat_store_async

NEXT_ITEM = "/api/seedtest/analysis/irt/next-item"
ANSWER = "/api/seedtest/analysis/irt/answer"
MAX_FAST_BODY = 64 * 1024  # larger bodies (long answers_so_far) are parsed by the route, off the loop


async def next_item(service: ServiceState, body: bytes) -> Answer:
    """The route's answer to a valid next-item body (Delegate for anything else)."""
    request = _request(body, NextItemRequest)
    answers = (
        None if request.answers_so_far is None else [(a.item_id, a.correct) for a in request.answers_so_far]
    )
    ask = NextItemAsk(
        request.user_id, request.session_id, request.policy, request.topic, answers, request.max_items,
        request.target_p, request.exclude_answered_days, request.start,
    )  # fmt: skip
    settings = service.settings
    cat, since = await _bank(service), exclusion_since(ask, settings)

    async def work(connection: psycopg.AsyncConnection[Any]) -> Answer:
        read = await cat_store_async.read_next_item_state(
            connection, ask.user_id, ask.session_id, settings.mirt_version, since
        )
        session = read.session
        start = None
        if session.start is not None:
            start = Start("stored" if session.start == "stored" else "prior", session.prior_mean or 0.0)
        state = SessionState(
            list(zip(session.item_ids, session.correct, strict=True)), session.rejected, start,
            None if start is not None else read.stored_theta, read.known, read.recent,
        )  # fmt: skip
        step = _routed(lambda: choose_next_item(cat, ask, state, settings))
        if step.event is not None and not await cat_store_async.record_served(connection, step.event):
            return 409, {"error": served_conflict(step.event).detail}
        return 200, step.answer

    answer: Answer = await with_retry(service, work)
    return answer


async def answer(service: ServiceState, body: bytes) -> Answer:
    """The route's answer to a valid answer body (Delegate for anything else)."""
    request = _request(body, AnswerRequest)
    cat = await _bank(service)

    async def work(connection: psycopg.AsyncConnection[Any]) -> Answer:
        rows = await cat_store_async.read_session_rows(connection, request.user_id, request.session_id)
        served = list(zip(rows.item_ids, rows.correct, strict=True))

        def scored() -> Any:
            return score_answer(
                cat, served, rows.prior_mean or 0.0, request.user_id, request.session_id, request.item_id,
                request.correct, service.settings,
            )  # fmt: skip

        step = _routed(scored)
        if not await cat_store_async.record_answer(connection, step.values):
            return 409, {"error": already_answered(request.item_id).detail}
        return 200, step.answer

    result: Answer = await with_retry(service, work)
    return result


def _request(body: bytes, model: type[Any]) -> Any:
    if len(body) > MAX_FAST_BODY:
        raise Delegate
    return validated(body, model, LIMITS)


def _routed(compute: Any) -> Any:
    """``compute()``; Delegate when it raises the HTTPException the route would answer."""
    try:
        return compute()
    except HTTPException:
        raise Delegate from None


async def _bank(service: ServiceState) -> CatBank:
    """The CAT bank (no query while fresh; else loaded in a worker thread); Delegate when it is
    empty or cannot be loaded (the route answers 409 or 503)."""
    version = service.settings.mirt_version
    cat = service.item_banks.fresh_value(version, CAT_BANK_KEY)
    if cat is None:

        def load() -> CatBank:
            with service.engine.connect() as connection:
                return cat_bank(service.item_banks, connection, service.settings)

        try:
            cat = await anyio.to_thread.run_sync(load)
        except HTTPException:
            raise Delegate from None
    assert isinstance(cat, CatBank)
    if cat.bank is None:
        raise Delegate
    return cat
