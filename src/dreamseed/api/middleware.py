"""Pure ASGI middleware: request metrics, and the guard that checks the token and the body size
before any of the body is read."""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dreamseed.api.metrics import ServiceMetrics


class RequestMetrics:
    """Counts requests and observes their latency by method, route template and status."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe_request(scope["method"], route, status, time.perf_counter() - started)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes its limit (answered 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


@dataclass(frozen=True)
class GuardPolicy:
    """What the guard enforces: the bearer token (None: no check), the paths open without it, the
    body size limit per path and the default limit of every other path."""

    token: str | None
    public_paths: frozenset[str]
    public_prefixes: tuple[str, ...]
    body_limits: Mapping[str, int]
    default_body_limit: int

    def is_public(self, path: str) -> bool:
        return path in self.public_paths or path.startswith(self.public_prefixes)


class RequestGuard:
    """Authentication and body size before the body is read: 401/403 from the headers alone; 413
    from Content-Length, or while the body streams in past the path's limit."""

    def __init__(self, app: ASGIApp, policy: GuardPolicy) -> None:
        self.app, self.policy = app, policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        refusal = self._refusal(scope["path"], headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        limit = self.policy.body_limits.get(scope["path"], self.policy.default_body_limit)
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)

    def _refusal(self, path: str, headers: Headers) -> JSONResponse | None:
        if self.policy.token is not None and not self.policy.is_public(path):
            scheme, _, given = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not given.strip():
                return JSONResponse(
                    {"error": "missing bearer token"}, 401, headers={"WWW-Authenticate": "Bearer"}
                )
            if not hmac.compare_digest(given.strip().encode(), self.policy.token.encode()):
                return JSONResponse({"error": "invalid bearer token"}, 403)
        limit = self.policy.body_limits.get(path, self.policy.default_body_limit)
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                return JSONResponse({"error": "invalid Content-Length"}, 400)
            if int(declared) > limit:
                return JSONResponse({"error": f"request body larger than {limit} bytes"}, 413)
        return None
