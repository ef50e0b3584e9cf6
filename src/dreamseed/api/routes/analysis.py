"""`POST /api/seedtest/analysis/irt/update-theta`: the online θ update at session end.

Rescores the user's θ (EAP) from their most recent answers (at most MAX_ANSWERS within
``lookback_days``) with the cached current item parameters and the latest calibration's
population prior, appends it to mirt_ability_history (source 'online'; run_id
``online-<session_id>``, so repeating a session's update replaces its row) and moves mirt_ability
forward. One indexed read and one write statement per call.

An unknown ``version`` (no item parameters of it anywhere, and not MIRT_VERSION) is a 404 and writes
nothing. A missing or empty ``user_id`` is a 400, as the original service answered (other invalid
fields are 422s). The body is parsed and the work done in a worker thread.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError

from dreamseed.api.deps import Service, ServiceState, require_token
from dreamseed.api.json_body import JsonLimits, parse_body
from dreamseed.api.openapi import ERRORS, body_of, error_answer
from dreamseed.api.schemas import UpdateThetaRequest, UpdateThetaResponse
from dreamseed.storage import irt_service

router = APIRouter(prefix="/api/seedtest/analysis", tags=["analysis"], dependencies=[Depends(require_token)])
MAX_ANSWERS = 1000
LIMITS = JsonLimits(max_depth=4, max_array=100)
RESPONSES = {
    **ERRORS,
    400: error_answer("`user_id` is missing or empty (as the original service answered)."),
    404: error_answer("No item parameters of this `version` exist."),
}


@router.post(
    "/irt/update-theta",
    response_model=UpdateThetaResponse,
    response_model_exclude_none=True,
    responses=RESPONSES,
    openapi_extra=body_of(UpdateThetaRequest),
)
async def update_theta(request: Request, service: Service) -> dict[str, Any]:
    """θ and SE of the user now, or `status: noop` with a message when nothing can be scored."""
    raw = await request.body()
    return await anyio.to_thread.run_sync(lambda: _update_theta(_request_of(raw), service))


def _request_of(raw: bytes) -> UpdateThetaRequest:
    try:
        return parse_body(raw, UpdateThetaRequest, LIMITS)
    except RequestValidationError as error:
        if any(_no_user_id(problem) for problem in error.errors()):
            raise HTTPException(400, "user_id is required (a non-empty string or number)") from None
        raise


def _no_user_id(problem: Any) -> bool:
    """Whether a validation problem is a missing, null or blank ``user_id``."""
    given = problem.get("input")
    blank = given is None or (isinstance(given, str) and not given.strip())
    return tuple(problem["loc"]) == ("body", "user_id") and (problem["type"] == "missing" or blank)


def _update_theta(body: UpdateThetaRequest, service: ServiceState) -> dict[str, Any]:
    version = body.version or service.settings.mirt_version
    now = datetime.now(UTC)
    # Autocommit: the read needs no transaction and the write is one atomic statement.
    with service.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if version != service.settings.mirt_version and not irt_service.version_is_known(connection, version):
            raise HTTPException(404, f"no item parameters of version {version!r}")
        bank = service.item_banks.get(connection, version, body.model)
        if bank.scorer is None:
            return _noop(
                service, body.user_id, f"no calibrated items for version {version}; run mirt-calibrate"
            )
        items, correct = irt_service.read_recent_answers(
            connection, body.user_id, now - timedelta(days=body.lookback_days), MAX_ANSWERS
        )
        estimate = bank.scorer.score(items, correct)
        if estimate.n_responses == 0:
            return _noop(
                service, body.user_id, f"no answers on calibrated items in the last {body.lookback_days} days"
            )
        run_id = f"online-{body.session_id}" if body.session_id else f"online-{uuid.uuid4().hex}"
        irt_service.record_online_theta(
            connection,
            user_id=body.user_id,
            run_id=run_id,
            theta=estimate.theta,
            se=estimate.se,
            model=bank.model,
            version=version,
            fitted_at=now,
        )
    service.metrics.theta_updates.labels("ok").inc()
    return {
        "status": "ok",
        "user_id": body.user_id,
        "theta": estimate.theta,
        "se": estimate.se,
        "model": bank.model,
        "version": version,
        "updated_at": now,
        "n_responses": estimate.n_responses,
        "session_id": body.session_id,
    }


def _noop(service: ServiceState, user_id: str, message: str) -> dict[str, Any]:
    service.metrics.theta_updates.labels("noop").inc()
    return {"status": "noop", "user_id": user_id, "message": message}
