"""Progress bars for long work (rich, on stderr; silent when stderr is not a terminal)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from dreamseed.ingest.files import numbered_lines


def _console() -> Console:
    return Console(stderr=True)


@contextmanager
def byte_progress(path: Path, label: str) -> Iterator[Iterator[tuple[int, str]]]:
    """Numbered non-blank lines of a text file, with a progress bar over the bytes read."""
    total = path.stat().st_size
    progress = Progress(
        TextColumn(f"loading {label}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=_console(),
        transient=True,
    )
    task = progress.add_task(label, total=total)

    with progress:
        yield numbered_lines(path, lambda n: progress.advance(task, n))


@contextmanager
def count_progress(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar over `total` steps; yields `advance(n)`."""
    progress = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=_console(),
        transient=True,
    )
    task = progress.add_task(label, total=total)

    def advance(steps: int = 1) -> None:
        progress.advance(task, steps)

    with progress:
        yield advance


@contextmanager
def staged_progress(labels: Mapping[str, str] | None = None) -> Iterator[Callable[[str, int, int], None]]:
    """A bar per stage, on stderr when it is a terminal; yields ``update(stage, done, total)``.

    ``labels`` maps stage names to what the bar says (default: the stage name).
    """
    console = _console()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    tasks: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task((labels or {}).get(stage, stage), total=total)
        bar.update(tasks[stage], completed=done)

    with bar:
        yield update
