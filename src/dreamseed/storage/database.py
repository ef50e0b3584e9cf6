"""Connecting to PostgreSQL: URL normalisation, the engine, where the URL comes from, and a small
async connection pool for the HTTP service's hot paths."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url

from dreamseed.settings import Settings
from dreamseed.storage import embedded

_DRIVER = "postgresql+psycopg"
_ACCEPTED = {"postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2", "postgresql+psycopg3"}


class DatabaseUrlError(ValueError):
    """A DATABASE_URL that is not a PostgreSQL URL."""


def normalise_url(url: str) -> URL:
    """Any accepted PostgreSQL URL form, as a SQLAlchemy URL using the psycopg 3 driver."""
    try:
        parsed = make_url(url)
    except Exception as error:
        raise DatabaseUrlError(f"DATABASE_URL is not a valid URL: {error}") from None
    if parsed.drivername not in _ACCEPTED:
        raise DatabaseUrlError(
            f"DATABASE_URL must be a PostgreSQL URL (postgresql://, postgresql+psycopg:// or "
            f"postgresql+psycopg2://), got {parsed.drivername}://"
        )
    return parsed.set(drivername=_DRIVER)


def libpq_url(url: URL) -> str:
    """The URL as psql and psycopg understand it (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def resolve_url(settings: Settings) -> URL:
    """DATABASE_URL when set; otherwise the embedded server's URL (started on demand)."""
    if settings.database_url is not None:
        return normalise_url(settings.database_url.get_secret_value())
    return normalise_url(embedded.ensure_running(settings.dreamseed_home))


def create_database_engine(url: URL, *, pool_size: int = 5) -> Engine:
    """An engine whose sessions all run in UTC, so DATE() and day windows mean UTC days."""
    return create_engine(
        url,
        pool_size=pool_size,
        pool_pre_ping=True,
        connect_args={"options": "-c timezone=UTC"},
    )


def engine_from_settings(settings: Settings) -> Engine:
    return create_database_engine(resolve_url(settings))


class AsyncPool:
    """A small pool of autocommit ``psycopg.AsyncConnection``s for an event loop's hot paths.

    At most ``size`` connections, opened on first need (no round trip at checkout: a broken one is
    dropped when a statement on it fails, and the caller retries idempotent work on a fresh one).
    Statements run with ``prepare=True`` are prepared once per connection. Not thread-safe: use it
    from the one event loop that created it.
    """

    def __init__(self, conninfo: str, size: int = 4) -> None:
        self.conninfo, self.size = conninfo, size
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._opened = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False

    @classmethod
    def for_engine(cls, engine: Engine, size: int = 4) -> AsyncPool:
        """A pool to the engine's database, with the engine's session settings (UTC)."""
        return cls(libpq_url(engine.url), size)

    async def _acquire(self) -> psycopg.AsyncConnection[Any]:
        while True:
            if self._closed:
                raise RuntimeError("the connection pool is closed")
            if self._idle:
                return self._idle.pop()
            if self._opened < self.size:
                self._opened += 1
                try:
                    return await psycopg.AsyncConnection.connect(
                        self.conninfo, autocommit=True, options="-c timezone=UTC"
                    )
                except BaseException:
                    self._opened -= 1
                    self._wake()
                    raise
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                raise

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _release(self, connection: psycopg.AsyncConnection[Any], broken: bool) -> None:
        if broken or self._closed or connection.closed or connection.info.transaction_status != 0:
            self._opened -= 1
            asyncio.get_running_loop().create_task(connection.close())
        else:
            self._idle.append(connection)
        self._wake()

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection for the block; dropped (not reused) when the block raises a database error."""
        connection = await self._acquire()
        broken = False
        try:
            yield connection
        except (psycopg.OperationalError, psycopg.InterfaceError):
            broken = True
            raise
        except BaseException:
            broken = connection.info.transaction_status != 0  # idle (0) connections are reusable
            raise
        finally:
            self._release(connection, broken)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()
        self._opened -= len(idle)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
