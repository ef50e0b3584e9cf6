"""The FastAPI application: `create_app(settings, engine)` builds it; nothing happens at import time.

`dreamseed serve` calls the factory; `uvicorn --factory dreamseed.api.app:create_app` works too
(settings from the environment, the engine created at startup and disposed at shutdown).
Errors answer ``{"error": message}`` (validation errors add ``detail`` with each field's location).
``RequestGuard`` checks the bearer token and each endpoint's body size limit before any of the body
is read; `/docs` and `/redoc` are served from the installed package's assets (no CDN).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from starlette.exceptions import HTTPException

from dreamseed import __version__
from dreamseed.api.deps import ServiceState
from dreamseed.api.docs_pages import OAUTH2_REDIRECT, STATIC_PREFIX, add_docs_pages
from dreamseed.api.fast_paths import FastPaths
from dreamseed.api.metrics import ServiceMetrics
from dreamseed.api.middleware import GuardPolicy, RequestGuard, RequestMetrics
from dreamseed.api.openapi import add_request_schemas
from dreamseed.api.routes import analysis, health, ingest, irt, metrics
from dreamseed.api.routes import cat as cat_routes
from dreamseed.api.schemas import CalibrateRequest, ScoreRequest, UpdateThetaRequest
from dreamseed.console import CONSOLE_PREFIX, add_console
from dreamseed.runtime.item_banks import ItemBankCache
from dreamseed.settings import Settings
from dreamseed.storage import irt_service
from dreamseed.storage.database import AsyncPool

DESCRIPTION = """IRT calibration and scoring compatible with the original R Plumber service, the
online θ update at session end, ingestion of exam results, health and Prometheus metrics. When R_IRT_INTERNAL_TOKEN is set,
every endpoint except /healthz, /health and these docs needs `Authorization: Bearer <token>`
(checked before the body is read). Bodies larger than the endpoint's limit get 413."""
FAST_POOL_SIZE = 4  # async connections per process for the update-theta fast path
PUBLIC_PATHS = frozenset({"/healthz", "/health", "/openapi.json", "/docs", OAUTH2_REDIRECT, "/redoc"})


def guard_policy(settings: Settings) -> GuardPolicy:
    """The token and the body size limit of each endpoint, from the settings."""
    secret = settings.r_irt_internal_token.get_secret_value() if settings.r_irt_internal_token else ""
    small = settings.api_max_small_body_bytes
    return GuardPolicy(
        token=secret or None,
        public_paths=PUBLIC_PATHS,
        public_prefixes=(STATIC_PREFIX + "/", CONSOLE_PREFIX),  # the console signs its users in itself
        body_limits={
            "/irt/calibrate": settings.api_max_calibrate_bytes,
            "/irt/score": small,
            "/api/seedtest/analysis/irt/update-theta": small,
        },
        default_body_limit=settings.api_max_body_bytes,
    )


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, *, item_bank_check_secs: float = 2.0
) -> FastAPI:
    """The service. ``engine`` defaults to one built from ``settings`` at startup (and disposed at
    shutdown); ``item_bank_check_secs`` bounds how stale the cached item parameters may be."""
    settings = settings or Settings()
    service_metrics = ServiceMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from dreamseed.storage.database import engine_from_settings

        owned = engine is None
        database = engine_from_settings(settings) if engine is None else engine
        collector = _job_status_collector(database)
        service_metrics.registry.register(collector)
        banks = ItemBankCache(item_bank_check_secs, default_version=settings.mirt_version)
        pool = AsyncPool.for_engine(database, FAST_POOL_SIZE)
        app.state.service = ServiceState(settings, database, banks, service_metrics, owned, pool)
        try:
            yield
        finally:
            await pool.close()
            service_metrics.registry.unregister(collector)
            if owned:
                database.dispose()

    app = FastAPI(
        title="DreamSeed Analytics",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(FastPaths)  # innermost of the three: after the token and size checks
    app.add_middleware(RequestGuard, policy=guard_policy(settings))
    app.add_middleware(RequestMetrics, metrics=service_metrics)  # outermost: counts 401 and 413 too
    for router in (health.router, irt.router, analysis.router, ingest.router, metrics.router):
        app.include_router(router)
    app.include_router(cat_routes.router)
    add_console(app, settings)
    add_docs_pages(app)
    add_request_schemas(app, [CalibrateRequest, ScoreRequest, UpdateThetaRequest])
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _internal_error)
    return app


def _job_status_collector(engine: Engine) -> Any:
    from dreamseed.api.metrics import JobStatusCollector

    def read() -> Any:
        with engine.connect() as connection:
            return irt_service.read_job_status(connection)

    return JobStatusCollector(read)


async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
    detail = [
        {"loc": list(problem.get("loc", ())), "msg": problem.get("msg", ""), "type": problem.get("type", "")}
        for problem in error.errors()
    ]
    fields = "; ".join(f"{'.'.join(str(p) for p in d['loc'])}: {d['msg']}" for d in detail[:5])
    return JSONResponse({"error": f"invalid request: {fields}", "detail": detail}, status_code=422)


async def _http_error(_request: Request, error: HTTPException) -> JSONResponse:
    return JSONResponse({"error": error.detail}, status_code=error.status_code, headers=error.headers)


async def _internal_error(_request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"error": f"internal_error: {type(error).__name__}"}, status_code=500)
