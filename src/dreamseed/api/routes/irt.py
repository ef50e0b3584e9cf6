"""`POST /irt/calibrate` and `POST /irt/score`: the original R Plumber contract (see irt_handlers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException

from dreamseed.api import irt_handlers
from dreamseed.api.deps import require_token
from dreamseed.api.schemas import CalibrateRequest, CalibrateResponse, ScoreRequest, ScoreResponse

router = APIRouter(prefix="/irt", tags=["irt"], dependencies=[Depends(require_token)])


@router.post("/calibrate", response_model=CalibrateResponse)
def calibrate(body: CalibrateRequest) -> dict[str, Any]:
    """Calibrate 1PL/2PL/3PL items and EAP abilities; anchors with `fixed` are held at their values."""
    try:
        return irt_handlers.calibrate_answer(body)
    except ValueError as error:
        raise HTTPException(400, str(error)) from None


@router.post("/score", response_model=ScoreResponse, response_model_exclude_none=True)
def score(body: ScoreRequest) -> dict[str, Any]:
    """EAP θ and posterior SD of each row of answers with the given items."""
    try:
        return irt_handlers.score_answer(body)
    except ValueError as error:
        raise HTTPException(400, str(error)) from None
