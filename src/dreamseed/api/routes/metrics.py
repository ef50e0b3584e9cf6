"""`GET /metrics`: Prometheus exposition of the service's registry (see dreamseed.api.metrics)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST

from dreamseed.api.deps import Service, require_token
from dreamseed.api.openapi import ERRORS

router = APIRouter(tags=["metrics"], dependencies=[Depends(require_token)])


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={code: ERRORS[code] for code in (401, 403)},
)
def metrics(service: Service) -> Response:
    """Request counts and latency, online θ updates, item bank size, and the batch jobs' status."""
    for bank in service.item_banks.loaded():
        service.metrics.item_bank_items.labels(bank.version).set(bank.n_items)
    return Response(service.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
