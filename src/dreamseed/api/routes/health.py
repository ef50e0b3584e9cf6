"""`GET /healthz` (liveness: always 200) and `GET /health` (readiness: 503 when the database is down)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, Response

from dreamseed import __version__
from dreamseed.api.deps import Service, ServiceState
from dreamseed.api.schemas import Health
from dreamseed.storage import irt_service

router = APIRouter(tags=["health"])
DATABASE_CHECK_SECS = 2.0


def _ping(service: ServiceState) -> None:
    with service.engine.connect() as connection:
        irt_service.ping(connection)


async def _health(service: ServiceState) -> Health:
    error = None
    try:
        await asyncio.wait_for(asyncio.to_thread(_ping, service), DATABASE_CHECK_SECS)
    except TimeoutError:
        error = f"no answer within {DATABASE_CHECK_SECS:g}s"
    except Exception as problem:
        error = f"{type(problem).__name__}: {str(problem).splitlines()[0] if str(problem) else ''}"
    return Health(
        status="ok" if error is None else "degraded",
        service="dreamseed",
        version=__version__,
        time=datetime.now(UTC),
        database="ok" if error is None else "unreachable",
        database_error=error,
    )


@router.get("/healthz", response_model_exclude_none=True)
async def healthz(service: Service) -> Health:
    """Liveness: the process answers; `database` says whether PostgreSQL does."""
    return await _health(service)


@router.get(
    "/health",
    response_model_exclude_none=True,
    responses={503: {"model": Health, "description": "The database is unreachable."}},
)
async def health(service: Service, response: Response) -> Health:
    """Readiness: as /healthz, with status 503 while the database is unreachable."""
    answer = await _health(service)
    if answer.database != "ok":
        response.status_code = 503
    return answer
