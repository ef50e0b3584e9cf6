"""The console: signed-in pages under /console/ and their JSON read API, served by `dreamseed serve`.

`add_console(app, settings)` mounts both on the service; pages read the precomputed console tables
that `dreamseed run refresh-console` fills (storage.console_refresh).
"""

from __future__ import annotations

from fastapi import FastAPI

from dreamseed.settings import Settings

CONSOLE_PREFIX = "/console/"


def add_console(app: FastAPI, settings: Settings) -> None:
    """Mount the console's pages, charts and JSON API (CONSOLE_USERS is parsed now)."""
    from dreamseed.api.routes.console_api import router as api_router
    from dreamseed.console import chart_routes, pages
    from dreamseed.console.access import console_state

    app.state.console = console_state(settings)
    app.include_router(pages.router)
    app.include_router(chart_routes.router)
    app.include_router(api_router)
