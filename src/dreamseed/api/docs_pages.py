"""`/docs` (Swagger UI) and `/redoc` served from the installed `fastapi-offline` package's assets.

FastAPI's default pages load Swagger UI and ReDoc from a CDN, so they are blank offline; these
load them from ``/static/docs/`` (FastAPI's documented self-hosting: ``docs_url=None`` and
``get_swagger_ui_html`` with our URLs). ReDoc is asked not to load Google Fonts, and its bundle is
served with the one image it would fetch from its CDN (the "API docs by Redocly" logo) pointed at
the local favicon instead.
"""

from __future__ import annotations

import functools
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
STATIC_PREFIX = "/static/docs"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
REDOC_CDN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@functools.cache
def offline_redoc_bundle() -> bytes:
    """The ReDoc standalone bundle with its CDN logo replaced by the local favicon."""
    bundle = (ASSETS / "redoc.standalone.js").read_bytes()
    return bundle.replace(REDOC_CDN_LOGO, f"{STATIC_PREFIX}/favicon.png".encode())


def add_docs_pages(app: FastAPI) -> None:
    """Mount the assets and add `/docs`, its OAuth2 redirect and `/redoc` (none in the schema)."""

    @app.get(f"{STATIC_PREFIX}/redoc.offline.js", include_in_schema=False)
    async def redoc_bundle() -> Response:
        return Response(offline_redoc_bundle(), media_type="application/javascript")

    app.mount(STATIC_PREFIX, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=OAUTH2_REDIRECT,
            swagger_js_url=f"{root}{STATIC_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_PREFIX}/favicon.png",
        )

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{STATIC_PREFIX}/redoc.offline.js",
            redoc_favicon_url=f"{root}{STATIC_PREFIX}/favicon.png",
            with_google_fonts=False,
        )
