"""Each item's exposure rate for the item bank pages: the share of the adaptive sessions of the
last ``EXPOSURE_DAYS`` days (cat_events) that served it.

Counting the sessions of a window scans the window's rows (about a second per million on a busy
2-core machine), too slow for every page view, so the rates of the whole bank are computed with
one statement at most every ``REFRESH_SECONDS`` per console process and database, and the pages
say when ("as of"). ``clear()`` drops them (tests, or after a bulk load).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from dreamseed.storage import cat_store

EXPOSURE_DAYS = 28
REFRESH_SECONDS = 300.0


@dataclass(frozen=True)
class Exposure:
    """Sessions in the window and, per item id, how many of them served it; ``as_of`` (UTC)."""

    days: int
    sessions: int
    served: dict[str, int]
    as_of: datetime


_LOCK = threading.Lock()
_CACHE: dict[str, tuple[Exposure, float]] = {}


def current(connection: Connection) -> Exposure:
    """The bank's exposure, recomputed when older than REFRESH_SECONDS."""
    key = connection.engine.url.render_as_string(hide_password=True)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is not None and time.monotonic() - cached[1] < REFRESH_SECONDS:
            return cached[0]
        until = datetime.now(UTC)
        sessions, frame = cat_store.read_exposure(connection, until - timedelta(days=EXPOSURE_DAYS), until)
        served = dict(zip(frame["item_id"].astype(str), frame["served"].astype(int).tolist(), strict=True))
        exposure = Exposure(EXPOSURE_DAYS, sessions, served, until)
        _CACHE[key] = (exposure, time.monotonic())
        return exposure


def clear() -> None:
    with _LOCK:
        _CACHE.clear()


def with_exposure(connection: Connection, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Add ``exposure_sessions`` and ``exposure_rate`` (None without sessions) to each item dict in
    place; returns the window: days, sessions and as_of (ISO text, minutes)."""
    exposure = current(connection)
    for item in items:
        item["exposure_sessions"] = exposure.served.get(str(item["item_id"]), 0)
        item["exposure_rate"] = item["exposure_sessions"] / exposure.sessions if exposure.sessions else None
    return {
        "days": exposure.days,
        "sessions": exposure.sessions,
        "as_of": exposure.as_of.strftime("%Y-%m-%d %H:%M"),
    }
