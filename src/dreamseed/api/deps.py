"""What the routes depend on: the service state (settings, engine, caches, metrics) and the token check."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from sqlalchemy import Engine

from dreamseed.api.metrics import ServiceMetrics
from dreamseed.runtime.item_banks import ItemBankCache
from dreamseed.settings import Settings
from dreamseed.storage.database import AsyncPool


@dataclass
class ServiceState:
    """Built by the app's lifespan (never at import time) and kept on ``app.state.service``."""

    settings: Settings
    engine: Engine
    item_banks: ItemBankCache
    metrics: ServiceMetrics
    owns_engine: bool = False
    fast_pool: AsyncPool | None = None  # the event loop's connections (dreamseed.api.fast_paths)

    @property
    def token(self) -> str | None:
        secret = self.settings.r_irt_internal_token
        return secret.get_secret_value() if secret is not None and secret.get_secret_value() else None


async def get_service(request: Request) -> ServiceState:
    """The state built at startup (async: FastAPI would run a plain function in a worker thread)."""
    service = getattr(request.app.state, "service", None)
    if service is None:
        raise HTTPException(503, "the service is starting")
    assert isinstance(service, ServiceState)
    return service


Service = Annotated[ServiceState, Depends(get_service)]


async def require_token(request: Request, service: Service) -> None:
    """`Authorization: Bearer <R_IRT_INTERNAL_TOKEN>` when the token is set: 401 when missing, 403
    when wrong (constant-time comparison)."""
    expected = service.token
    if expected is None:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise HTTPException(403, "invalid bearer token")
