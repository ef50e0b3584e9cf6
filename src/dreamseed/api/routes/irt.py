"""`POST /irt/calibrate` and `POST /irt/score`: the original R Plumber contract (see irt_handlers).

The body is read after the token and size checks (``RequestGuard``), then parsed, validated and
computed in a worker thread (``json_body``); the answer is serialised there too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel

from dreamseed.api import irt_handlers
from dreamseed.api.deps import require_token
from dreamseed.api.json_body import JsonLimits, handle_body
from dreamseed.api.openapi import ERRORS, body_of
from dreamseed.api.schemas import CalibrateRequest, CalibrateResponse, ScoreRequest, ScoreResponse

router = APIRouter(prefix="/irt", tags=["irt"], dependencies=[Depends(require_token)])
CALIBRATE_LIMITS = JsonLimits(max_depth=8, max_array=5_000_000)
SCORE_LIMITS = JsonLimits(max_depth=8, max_array=10_000)


def _answered(compute: Any, model: type[BaseModel], exclude_none: bool) -> Any:
    """The work of a route: compute, then serialise through the response model (in the thread)."""

    def work(body: Any) -> Response:
        try:
            answer = model.model_validate(compute(body)).model_dump_json(exclude_none=exclude_none)
            return Response(answer, media_type="application/json")
        except irt_handlers.NotComputable as error:
            raise HTTPException(422, str(error)) from None
        except ValueError as error:
            raise HTTPException(400, str(error)) from None

    return work


@router.post(
    "/calibrate",
    response_model=CalibrateResponse,
    responses=ERRORS,
    openapi_extra=body_of(CalibrateRequest),
)
async def calibrate(request: Request) -> Any:
    """Calibrate 1PL/2PL/3PL items and EAP abilities; anchors with `fixed` are held at their values,
    anchors without parameters are calibrated freely (`fit_meta.anchors_without_params`). 400: no
    answers in the body; 422: invalid body, or no finite estimate."""
    return await handle_body(
        request,
        CalibrateRequest,
        CALIBRATE_LIMITS,
        _answered(irt_handlers.calibrate_answer, CalibrateResponse, False),
    )


@router.post("/score", response_model=ScoreResponse, responses=ERRORS, openapi_extra=body_of(ScoreRequest))
async def score(request: Request) -> Any:
    """EAP θ and posterior SD of each row of answers with the given items; 422 when a θ cannot be
    computed (e.g. parameters so extreme that a·b overflows), never a null θ."""
    return await handle_body(
        request, ScoreRequest, SCORE_LIMITS, _answered(irt_handlers.score_answer, ScoreResponse, True)
    )
