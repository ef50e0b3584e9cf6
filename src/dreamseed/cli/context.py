"""What every command needs at the edge: settings, the database engine, and clean error exits."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import click

from dreamseed.runtime.edge import UserError, database, database_problem, load_settings

__all__ = ["UserError", "database", "database_problem", "echo_table", "friendly_errors", "load_settings"]

P = ParamSpec("P")
R = TypeVar("R")


def friendly_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Turn KeyboardInterrupt into exit code 130 without a traceback."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


def echo_table(rows: list[tuple[Any, ...]], headers: tuple[str, ...]) -> None:
    """Print rows as a plain aligned table (pipes and grep keep working)."""
    text_rows = [tuple("" if value is None else str(value) for value in row) for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in text_rows)) if text_rows else len(h) for i, h in enumerate(headers)
    ]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in text_rows:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
