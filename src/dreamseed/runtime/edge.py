"""What every command needs at the edge: settings, the database engine, and errors the user can fix.

Shared by the job command (`dreamseed run <job>`, `python -m dreamseed.jobs.<job>`) and the CLI.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from pydantic import ValidationError
from sqlalchemy import Engine

from dreamseed.settings import Settings


class UserError(click.ClickException):
    """An error the user can fix; printed without a traceback, exit code 1."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'/'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
        raise UserError(
            f"invalid settings in the environment: {problems}; fix or unset them (`dreamseed config --help`)"
        ) from None


@contextmanager
def database(settings: Settings, *, migrate: bool = True) -> Iterator[Engine]:
    """The database engine for one command, disposed at the end; migrations applied first."""
    engine = _open_engine(settings, migrate=migrate)
    try:
        yield engine
    finally:
        engine.dispose()


def _open_engine(settings: Settings, *, migrate: bool) -> Engine:
    from dreamseed.storage import migrate as migrations
    from dreamseed.storage.database import DatabaseUrlError, engine_from_settings

    try:
        engine = engine_from_settings(settings)
        with engine.connect():  # fails here, with one clear line, when the server is down or refuses us
            pass
        if migrate and not migrations.is_up_to_date(engine):
            migrations.upgrade(engine)
    except DatabaseUrlError as error:
        raise UserError(str(error)) from None
    except Exception as error:
        if type(error).__module__.startswith(("sqlalchemy", "psycopg")):
            raise UserError(database_problem(error)) from None
        raise
    return engine


def database_problem(error: BaseException) -> str:
    """One line for a failed database connection: what the server said, and what to check."""
    cause = getattr(error, "orig", None) or error
    first_line = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    reason = first_line.rsplit(" failed: ", 1)[-1].removeprefix("FATAL:").strip()
    lowered = reason.lower()
    if "password" in lowered or "role" in lowered or "authentication" in lowered:
        advice = "check the user name and password in DATABASE_URL"
    elif "database" in lowered and "does not exist" in lowered:
        advice = "create that database or fix its name in DATABASE_URL"
    else:
        advice = (
            "is the server running? Check the host and port in DATABASE_URL "
            "(or unset it to use the embedded server)"
        )
    return f"cannot reach the database: {reason}; {advice}, then retry."
