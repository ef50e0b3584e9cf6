"""Rendering and storing the week's reports in parallel: a spawn process pool, one renderer per worker.

Each worker renders a chunk of `ReportData`, stores every requested format itself (failed writes
retried with backoff) and returns one `UserOutcome` per user; the parent builds the data lazily,
keeps a bounded number of chunks in flight, shows a progress bar on stderr and records what was
stored. Small runs, or ``workers=1``, render in this process. The pool uses the ``spawn`` start
method: typst's threads do not survive ``fork``.

Workers die with their parent: each asks Linux for SIGKILL when its parent dies (``prctl
PR_SET_PDEATHSIG``, set in the initializer), and a watcher thread also exits the worker when its
parent pid changes (other systems, or a parent that died before the prctl call). A killed report
run leaves no process working on.

Each worker returns its chunk's outcomes to the parent, which hands them to ``record`` (the job
writes their report_artifacts rows) as they arrive, so a killed run leaves unrecorded only the
files of the chunks in flight.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from dreamseed.reports import ReportData, ReportRenderer
from dreamseed.storage.objects import (
    CONTENT_TYPES,
    FIRST_BACKOFF_SECONDS,
    UPLOAD_ATTEMPTS,
    ObjectStore,
    StoredObject,
    StoreError,
    put_with_retries,
    report_key,
)

MAX_CHUNK = 25
IN_FLIGHT_PER_WORKER = 3
SMALL_RUN = 12
"""Runs of at most this many reports render in this process (a worker starts in ~1–2 s)."""
GIVE_UP_AFTER = 50
"""Failed reports in a row after which the rest of the run is not attempted."""
NOT_ATTEMPTED = "not attempted"
PR_SET_PDEATHSIG = 1
PARENT_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class RenderSettings:
    """What every worker needs: where to store, which formats, fonts and the retry policy."""

    store: ObjectStore
    formats: tuple[str, ...]
    font_dirs: tuple[str, ...] = ()
    upload_attempts: int = UPLOAD_ATTEMPTS
    first_backoff_s: float = FIRST_BACKOFF_SECONDS


@dataclass(frozen=True)
class Artifact:
    """One stored report file of one user."""

    user_id: str
    format: str
    stored: StoredObject


@dataclass(frozen=True)
class UserOutcome:
    """One user's report: the files stored, and the errors of the formats that were not."""

    user_id: str
    artifacts: tuple[Artifact, ...] = ()
    errors: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.errors


class ReportWorker:
    """Renders and stores reports with one `ReportRenderer` (one per process)."""

    def __init__(self, settings: RenderSettings) -> None:
        self.settings = settings
        self.renderer = ReportRenderer(settings.font_dirs)

    def outcome(self, data: ReportData) -> UserOutcome:
        """Render ``data`` in every requested format and store each file; errors are kept, not raised."""
        formats = self.settings.formats
        try:
            report = self.renderer.render(data, html="html" in formats, pdf="pdf" in formats)
        except Exception as error:
            return UserOutcome(data.user_id, errors=(f"render failed: {type(error).__name__}: {error}",))
        bodies = {"html": report.html.encode() if report.html is not None else None, "pdf": report.pdf}
        artifacts, errors = [], []
        for report_format in formats:
            body = bodies[report_format]
            assert body is not None
            key = report_key(data.user_id, data.week_start, report_format)
            try:
                stored = put_with_retries(
                    self.settings.store,
                    key,
                    body,
                    CONTENT_TYPES[report_format],
                    self.settings.upload_attempts,
                    self.settings.first_backoff_s,
                )
            except StoreError as error:
                errors.append(str(error))
            else:
                artifacts.append(Artifact(data.user_id, report_format, stored))
        return UserOutcome(data.user_id, tuple(artifacts), tuple(errors))

    def outcomes(self, chunk: list[ReportData]) -> list[UserOutcome]:
        return [self.outcome(data) for data in chunk]


_worker: ReportWorker | None = None


def die_with_parent(parent_pid: int) -> None:
    """Make this process die when ``parent_pid`` (its parent) does: PR_SET_PDEATHSIG on Linux, and
    a daemon thread that exits the process once its parent pid is no longer ``parent_pid``."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the prctl call
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="watch-parent", daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


def start_worker(settings: RenderSettings, parent_pid: int | None = None) -> None:
    """Pool initializer: die with the parent, then this process's worker, fonts and template loaded
    now when possible."""
    global _worker
    if parent_pid is not None:
        die_with_parent(parent_pid)
    _worker = ReportWorker(settings)
    # An initializer that raises makes the pool respawn workers forever; the same error is
    # reported per report by `ReportWorker.outcome` instead.
    with contextlib.suppress(Exception):
        _worker.renderer.warm_up()


def worker_outcomes(chunk: list[ReportData]) -> list[UserOutcome]:
    """Pool task: the outcomes of one chunk, in this worker process."""
    assert _worker is not None, "start_worker did not run in this process"
    return _worker.outcomes(chunk)


def usable_cpus() -> int:
    """CPUs this process may use: its affinity mask, capped by a cgroup v2 CPU quota (containers)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cpus = min(cpus, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def chunked(items: Iterable[ReportData], size: int) -> Iterator[list[ReportData]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def chunk_size(total: int, workers: int) -> int:
    """Chunks small enough to balance the workers and show progress, large enough to amortise IPC."""
    return max(1, min(MAX_CHUNK, total // (workers * 8)))


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr (only on a terminal: logs stay clean); yields ``advance(n)``."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda _steps: None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    progress = Progress(*columns, console=console, transient=True)
    task = progress.add_task(label, total=total)
    with progress:
        yield lambda steps: progress.advance(task, steps)


class Outcomes:
    """The outcomes so far; gives up after `give_up_after` failed users in a row (a store that is
    down or refuses our credentials would otherwise cost every remaining report its retries)."""

    def __init__(
        self,
        give_up_after: int,
        advance: Callable[[int], None],
        record: Callable[[list[UserOutcome]], None] = lambda _outcomes: None,
    ) -> None:
        self.give_up_after = give_up_after
        self.advance = advance
        self.record = record
        self.recorded: list[UserOutcome] = []
        self.failures_in_a_row = 0

    @property
    def gave_up(self) -> bool:
        return self.failures_in_a_row >= self.give_up_after

    def add(self, outcomes: Iterable[UserOutcome]) -> None:
        batch = list(outcomes)
        if any(outcome.artifacts for outcome in batch):
            self.record(batch)
        for outcome in batch:
            self.recorded.append(outcome)
            self.failures_in_a_row = 0 if outcome.ok else self.failures_in_a_row + 1
            self.advance(1)

    def not_attempted(self, reports: Iterable[ReportData]) -> list[UserOutcome]:
        """Every remaining report, failed without an attempt; returns all outcomes."""
        reason = f"{NOT_ATTEMPTED}: gave up after {self.give_up_after} failed reports in a row"
        self.add(UserOutcome(data.user_id, errors=(reason,)) for data in reports)
        return self.recorded


def render_and_store(
    reports: Iterable[ReportData],
    total: int,
    settings: RenderSettings,
    workers: int,
    advance: Callable[[int], None] = lambda _n: None,
    give_up_after: int = GIVE_UP_AFTER,
    record: Callable[[list[UserOutcome]], None] = lambda _outcomes: None,
) -> list[UserOutcome]:
    """Render and store ``total`` reports on ``workers`` processes; one outcome per report, in
    completion order. After ``give_up_after`` failed reports in a row the rest are not attempted.
    ``record`` receives the outcomes as they arrive (a chunk, or one report in this process), before
    the next are awaited."""
    outcomes = Outcomes(give_up_after, advance, record)
    remaining = iter(reports)
    if workers <= 1 or total <= SMALL_RUN:
        worker = ReportWorker(settings)
        for data in remaining:
            outcomes.add([worker.outcome(data)])
            if outcomes.gave_up:
                break
        return outcomes.not_attempted(remaining)
    return _pool_outcomes(remaining, total, settings, workers, outcomes)


def _pool_outcomes(
    reports: Iterator[ReportData], total: int, settings: RenderSettings, workers: int, outcomes: Outcomes
) -> list[UserOutcome]:
    chunks = chunked(reports, chunk_size(total, workers))
    context = multiprocessing.get_context("spawn")
    pending: dict[Future[list[UserOutcome]], list[ReportData]] = {}
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=start_worker, initargs=(settings, os.getpid())
    ) as pool:
        for chunk in itertools.chain(chunks, [None]):
            if chunk is not None:
                pending[pool.submit(worker_outcomes, chunk)] = chunk
            limit = workers * IN_FLIGHT_PER_WORKER if chunk is not None else 0
            while len(pending) > limit and not outcomes.gave_up:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    del pending[future]
                    outcomes.add(future.result())
            if outcomes.gave_up:
                break
        cancelled = [data for future, chunk in pending.items() if future.cancel() for data in chunk]
        for future in pending:
            if not future.cancelled():
                outcomes.add(future.result())
    return outcomes.not_attempted(itertools.chain(cancelled, reports))
