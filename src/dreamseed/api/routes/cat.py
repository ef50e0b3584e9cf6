"""`POST /api/seedtest/analysis/irt/next-item` and `POST …/irt/answer`: adaptive practice and tests.

A session is (user_id, session_id). next-item chooses the next question with the CAT core
(``dreamseed.cat``: ``test`` = maximum information, ``practice`` = P(correct) closest to
CAT_TARGET_P) over the current calibration (mirt_item_params of MIRT_VERSION, topics from
question.topic_id), records it in ``cat_events`` and answers the item, why, θ and SE before it,
or ``status: stop`` with the stopping rule that held. answer records the answer on that row and
answers θ and SE after it. The session's answers come from ``cat_events`` unless the request
sends ``answers_so_far`` (then those are the answers; items served and not answered are never
served again in the session, nor are items whose Sympson–Hetter lottery failed). Items answered in
the last ``exclude_answered_days`` days, retired items and (CAT_EXCLUDE_ANCHORS) anchors are never
served; a new session starts from the student's stored θ when there is one (``start``). The
session-end update-theta is unchanged. Bodies are parsed and the work done in a worker thread.
The common case (a valid body, a loaded bank, no error) is answered before these routes by the
plain-ASGI fast path (``dreamseed.api.cat_fast_paths``: the same computation on the event loop);
these routes answer the rest, every 4xx included, and stay the contract (OpenAPI).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from dreamseed.api.cat_service import NextItemAsk, cat_bank, record_answer, serve_next_item
from dreamseed.api.deps import Service, require_token
from dreamseed.api.json_body import JsonLimits, parse_body
from dreamseed.api.openapi import ERRORS, error_answer
from dreamseed.api.schemas import Id

router = APIRouter(prefix="/api/seedtest/analysis", tags=["adaptive"], dependencies=[Depends(require_token)])
LIMITS = JsonLimits(max_depth=4, max_array=500)


class AnswerIn(BaseModel):
    """One answer of the session so far."""

    model_config = ConfigDict(extra="forbid")
    item_id: Id
    correct: bool


class NextItemRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    user_id: Id
    session_id: Id
    policy: Literal["test", "practice"] = Field(
        "test", description="test: maximum information at θ; practice: P(correct) closest to target_p."
    )
    topic: Id | None = Field(None, description="Only items of this topic (question.topic_id).")
    answers_so_far: Annotated[list[AnswerIn], Field(max_length=500)] | None = Field(
        None, description="The session's answers; default: those recorded through /irt/answer."
    )
    max_items: int | None = Field(
        None, ge=1, le=500, description="Stop after this many (at most CAT_MAX_ITEMS)."
    )
    target_p: float | None = Field(
        None, gt=0, lt=1, description="practice: target P(correct) (CAT_TARGET_P)."
    )
    exclude_answered_days: int | None = Field(
        None, ge=0, le=3650,
        description="Skip items the student answered in the last N days (CAT_EXCLUDE_ANSWERED_DAYS; 0: off).",
    )  # fmt: skip
    start: Literal["auto", "prior"] = Field(
        "auto", description="auto: a new session starts from the student's stored θ if any; prior: from 0."
    )


class Excluded(BaseModel):
    """How many bank items were kept out of this step, by why."""

    answered_recently: int
    retired: int
    anchors: int


class NextItemResponse(BaseModel):
    status: Literal["item", "stop"]
    user_id: str
    session_id: str
    policy: str
    item_id: str | None = None
    topic: str | None = None
    reason: str
    theta: float
    se: float
    n_answered: int
    stop: bool
    stop_reason: Literal["se", "max_items", "no_eligible_item", "no_informative_item"] | None = None
    information: float | None = None
    p_correct: float | None = None
    version: str
    start: Literal["stored", "prior"] = Field(
        description="stored: the session started from the student's stored θ; prior: from N(0, 1)."
    )
    start_theta: float = Field(description="The θ the session started from (its prior mean).")
    excluded: Excluded


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    user_id: Id
    session_id: Id
    item_id: Id
    correct: bool


class AnswerResponse(BaseModel):
    status: Literal["ok"]
    user_id: str
    session_id: str
    item_id: str
    correct: bool
    theta: float
    se: float
    n_answered: int
    answered_at: datetime


NEXT_ITEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: error_answer("answers_so_far names an item that is not in the bank, or one item twice."),
    404: error_answer("Unknown user (no session, answer or ability), or a topic with no items in the bank."),
    409: error_answer("The item bank is empty (no calibration yet), or a concurrent call served the item."),
    422: error_answer("Invalid body, e.g. a malformed answers_so_far (not a list of {item_id, correct})."),
    503: error_answer("CAT_EXPOSURE=sympson-hetter and CAT_EXPOSURE_PARAMETERS is missing or unreadable."),
}
ANSWER_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: error_answer("The item was not served in this session (next-item serves it first)."),
    409: error_answer("The item is already answered in this session, or the item bank is empty."),
    503: NEXT_ITEM_RESPONSES[503],
}


def _inline(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` of a body read by hand: the model's schema inline (its $defs resolved)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items()}
        return [resolve(value) for value in node] if isinstance(node, list) else node

    content = {"application/json": {"schema": resolve(schema)}}
    return {"requestBody": {"required": True, "content": content}}


@router.post(
    "/irt/next-item",
    response_model=NextItemResponse,
    responses=NEXT_ITEM_RESPONSES,
    openapi_extra=_inline(NextItemRequest),
)
async def next_item(request: Request, service: Service) -> dict[str, Any]:
    """The next question of an adaptive session and why, θ and SE so far, or `status: stop`."""
    raw = await request.body()

    def work() -> dict[str, Any]:
        body = parse_body(raw, NextItemRequest, LIMITS)
        answers = (
            None if body.answers_so_far is None else [(a.item_id, a.correct) for a in body.answers_so_far]
        )
        ask = NextItemAsk(
            body.user_id, body.session_id, body.policy, body.topic, answers, body.max_items, body.target_p,
            body.exclude_answered_days, body.start,
        )  # fmt: skip
        with service.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            bank = cat_bank(service.item_banks, connection, service.settings)
            return serve_next_item(connection, bank, ask, service.settings)

    return await anyio.to_thread.run_sync(work)


@router.post(
    "/irt/answer",
    response_model=AnswerResponse,
    responses=ANSWER_RESPONSES,
    openapi_extra=_inline(AnswerRequest),
)
async def answer(request: Request, service: Service) -> dict[str, Any]:
    """Record the answer to an item served by next-item; θ and SE after it."""
    raw = await request.body()

    def work() -> dict[str, Any]:
        body = parse_body(raw, AnswerRequest, LIMITS)
        with service.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            bank = cat_bank(service.item_banks, connection, service.settings)
            return record_answer(
                connection, bank, body.user_id, body.session_id, body.item_id, body.correct, service.settings
            )

    return await anyio.to_thread.run_sync(work)
