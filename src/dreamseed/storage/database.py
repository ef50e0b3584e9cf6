"""Connecting to PostgreSQL: URL normalisation, the engine, and where the URL comes from."""

from __future__ import annotations

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
