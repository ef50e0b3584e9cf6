"""`dreamseed ingest`: load platform exports into the database."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from dreamseed.cli.context import UserError, database, load_settings
from dreamseed.cli.progress import byte_progress
from dreamseed.ingest.files import (
    GOALS_CSV,
    QUESTIONS_CSV,
    CsvLayout,
    MissingColumns,
    csv_records,
    current_window,
    echo,
    exam_result_records,
    exam_results_kind_problem,
)
from dreamseed.ingest.limits import DateWindow
from dreamseed.ingest.records import Rejected, check_goal, check_question
from dreamseed.settings import Settings
from dreamseed.storage.ingest import IngestSummary

EXIT_REJECTED = 3
T = TypeVar("T")
SHOW_REJECTIONS = 20

_EPILOG = (
    "Exit status: 0 when every record loaded; 3 when some records were rejected (the good ones are "
    "loaded; every rejected one is kept in the ingest_quarantine table with its line number and "
    "reason); 1 when nothing could be loaded (e.g. the file is of another kind). A file is loaded in one transaction: if the command "
    "is interrupted, nothing from that file is kept."
)


@click.group(epilog=_EPILOG)
def ingest() -> None:
    """Load platform exports (exam results, the item bank, goals)."""


@ingest.command("exam-results", epilog=_EPILOG)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def exam_results(path: Path) -> None:
    """Load exam results from a JSON Lines file (one finished exam session per line).

    Each line: {"session_id", "user_id", "exam_id", "status", "result_json": {"questions": [
    {"question_id", "topic", "is_correct" (or "correct"), "time_spent_sec", "used_hints"}]},
    "created_at", "updated_at"}. Rows are upserted by session_id: re-loading a file changes
    nothing, and a row with a newer updated_at replaces the stored one.
    """
    from dreamseed.storage.ingest import load_exam_results

    problem = exam_results_kind_problem(path)
    if problem is not None:
        raise UserError(problem)
    settings = load_settings()
    window = _window(settings)
    with database(settings) as engine, byte_progress(path, "exam results") as lines:
        summary = load_exam_results(engine, exam_result_records(lines, window), path.name)
    _report(summary, "lines")


@ingest.command("questions", epilog=_EPILOG)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def questions(path: Path) -> None:
    """Load the item bank from CSV: id,topic_id,difficulty,content,a,b,c,tags[,model,version].

    a/b/c become question.meta.irt; tags is a ';'-separated list (tag `anchor` marks an anchor
    item whose parameters calibration holds fixed).
    """
    from dreamseed.storage.ingest import load_questions

    with database(load_settings()) as engine:
        summary = load_questions(engine, _checked(path, check_question, QUESTIONS_CSV), path.name)
    _report(summary, "rows")


@ingest.command("goals", epilog=_EPILOG)
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def goals(path: Path) -> None:
    """Load goals from CSV: user_id,topic_id,target_level,priority,target_date,created_at.

    target_level is a θ target; target_date (YYYY-MM-DD) may be empty.
    """
    from dreamseed.storage.ingest import load_goals

    settings = load_settings()
    check = functools.partial(check_goal, window=_window(settings))
    with database(settings) as engine:
        summary = load_goals(engine, _checked(path, check, GOALS_CSV), path.name)
    _report(summary, "rows")


def _window(settings: Settings) -> DateWindow:
    return current_window(settings.ingest_min_date, settings.ingest_max_future_days)


def _checked(
    path: Path, check: Callable[[int, dict[str, str | None], str], T | Rejected], layout: CsvLayout
) -> list[T | Rejected]:
    """All checked rows (item banks and goals are small), or a clear error when the header is wrong."""
    try:
        return list(csv_records(path, check, layout))
    except MissingColumns as error:
        raise UserError(str(error)) from None


def _report(summary: IngestSummary, unit: str) -> None:
    click.echo(
        f"{summary.source}: read {summary.read} {unit}; inserted {summary.inserted}, "
        f"updated {summary.updated}, unchanged {summary.unchanged}"
    )
    if not summary.rejected:
        return
    questions = sum(1 for r in summary.rejected if r.reason.startswith("question "))
    detail = (
        f" ({len(summary.rejected) - questions} whole {unit}, {questions} questions)" if questions else ""
    )
    click.echo(
        f"rejected {len(summary.rejected)} record(s){detail}; kept in table ingest_quarantine:", err=True
    )
    for rejected in summary.rejected[:SHOW_REJECTIONS]:
        click.echo(f"  line {rejected.line_no}: {echo(rejected.reason, 200)}", err=True)
    if len(summary.rejected) > SHOW_REJECTIONS:
        click.echo(f"  … and {len(summary.rejected) - SHOW_REJECTIONS} more", err=True)
    raise SystemExit(EXIT_REJECTED)
