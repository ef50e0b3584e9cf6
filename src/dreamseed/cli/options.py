"""The options several commands share, as decorators (the way sqlite-utils shares its option bundles).

Each decorator fixes an option's name, type and help wording once; where the commands differ (a
default, the allowed range, whether ``--out`` is a directory or a file), that is its parameter::

    @click.command()
    @students_option(default=500, minimum=1, help="Number of students.")
    @seed_option(default=0)
    @out_option(kind="directory", help="Directory to write into.")
    def synth(students: int, seed: int, out: Path) -> None: ...
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import click
from click.decorators import FC


def students_option(*, default: int, minimum: int, help: str = "Students to simulate.") -> Callable[[FC], FC]:
    """``--students N``: how many students to simulate (at least ``minimum``)."""
    return click.option(
        "--students", type=click.IntRange(min=minimum), default=default, show_default=True, help=help
    )


def weeks_option(
    *, default: int, minimum: int, maximum: int | None = None, help: str = "Weeks of history."
) -> Callable[[FC], FC]:
    """``--weeks N``: a number of weeks in [``minimum``, ``maximum``] (no upper bound when None)."""
    return click.option(
        "--weeks",
        type=click.IntRange(min=minimum, max=maximum),
        default=default,
        show_default=True,
        help=help,
    )


def seed_option(*, default: int) -> Callable[[FC], FC]:
    """``--seed N``: the random seed (a non-negative integer)."""
    return click.option(
        "--seed", type=click.IntRange(min=0), default=default, show_default=True, help="Random seed."
    )


def end_date_option(*, period: str) -> Callable[[FC], FC]:
    """``--end-date YYYY-MM-DD``: the last day of ``period`` (e.g. "the period (UTC)"); None = yesterday."""
    return click.option(
        "--end-date",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help=f"Last day of {period}, YYYY-MM-DD.  [default: yesterday]",
    )


def out_option(*, kind: Literal["directory", "file"], help: str, required: bool = True) -> Callable[[FC], FC]:
    """``--out PATH``: the directory or file a command writes; required unless ``required=False``
    (then None when not given, and ``help`` says what the command uses instead)."""
    path = (
        click.Path(file_okay=False, path_type=Path)
        if kind == "directory"
        else click.Path(dir_okay=False, path_type=Path)
    )
    extra: dict[str, Any] = {"required": True} if required else {"default": None}
    return click.option("--out", type=path, help=help, **extra)
