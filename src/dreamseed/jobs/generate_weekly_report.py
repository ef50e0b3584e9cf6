"""generate-weekly-report: each student's weekly report, HTML and PDF, in a directory or an S3 bucket.

Week = the ISO week containing --week D (alias of the shared --date; the daily chain passes the
week's Sunday); default: the previous ISO week. Users = every user with a weekly_kpi row for that
week (in --shard, or only the --user ids). Bulk reads in one snapshot (KPIs of the week and the
week before, θ history of 8 weeks, topic days, the item bank, items answered, goals), one
`ReportData` per user with grouped pandas, then rendering and storing on a process pool. Files go
to REPORT_DIR (default DREAMSEED_HOME/reports) or, when S3_BUCKET is set, to that bucket, under
``reports/{user_id}/{week_start}/report.{html|pdf}``; report_artifacts gets one row per stored file
(url = absolute file path, or s3://bucket/key). A file that cannot be stored after retries is not
recorded and its user counts as failed (exit 1); after 50 failed reports in a row the rest are not
attempted. A dry run reads and renders one sample in memory: no files, no rows.

Files and rows stay together. A file and a database row cannot share one transaction, so the run
makes the window small and repairs what falls into it:

- a chunk's report_artifacts rows are committed as soon as its files are stored (one short
  transaction per chunk of at most 25 users, not one at the end): a run killed midway leaves
  unrecorded only the files of the chunks in flight (a few per worker), not every file it wrote;
- the next run of the week, when a run of that week failed or was abandoned, first removes the
  week's files of its shard (every user's, --user or not: no other run of the shard can be writing,
  it holds the lock) that no row records, temporary files of writes cut short included. Removed rather than recorded: such a file may hold one format without the other, or a
  half-finished user, and the run renders every one of its users again anyway. So after a
  finished run the week's files are exactly its report_artifacts rows. (A file a killed run
  overwrote keeps its old row, with the old sha256, until the re-run rewrites both.)
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import click
import pandas as pd
from sqlalchemy import Connection

from dreamseed.reports import ReportData, ReportRenderer
from dreamseed.reports.inputs import WeeklyReportFrames, report_data_by_user
from dreamseed.runtime.command import main, parse_date
from dreamseed.runtime.phases import checkpoint
from dreamseed.runtime.report_pool import (
    GIVE_UP_AFTER,
    NOT_ATTEMPTED,
    RenderSettings,
    UserOutcome,
    progress_bar,
    render_and_store,
    usable_cpus,
)
from dreamseed.runtime.runner import Job, JobContext, JobResult, monday
from dreamseed.settings import Settings
from dreamseed.storage import job_runs
from dreamseed.storage import reports as report_storage
from dreamseed.storage.bucket_check import bucket_problem
from dreamseed.storage.objects import LocalDirectoryStore, ObjectStore, S3Store, key_user

FORMATS = ("html", "pdf")
SHOWN_SUCCESSES = 5
SHOWN_ERRORS = 20


def formats_from(text: str) -> tuple[str, ...]:
    """Formats from a comma-separated list (e.g. "html,pdf"), in the given order, without repeats."""
    chosen = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [name for name in chosen if name not in FORMATS]
    if not chosen or unknown:
        raise ValueError(
            f"report formats must be a comma-separated subset of {','.join(FORMATS)}, got {text!r}"
        )
    return chosen


def object_store(settings: Settings) -> ObjectStore:
    """The S3 bucket when S3_BUCKET is set, else the local REPORT_DIR."""
    if settings.s3_bucket:
        return S3Store(settings.s3_bucket, settings.aws_region, settings.s3_endpoint_url)
    return LocalDirectoryStore(settings.reports_dir)


def font_dirs(settings: Settings) -> tuple[str, ...]:
    return (str(settings.report_font_dir),) if settings.report_font_dir else ()


def read_frames(connection: Connection, population: report_storage.ReportPopulation) -> WeeklyReportFrames:
    return WeeklyReportFrames(
        week_start=population.week_start,
        kpis=report_storage.read_week_kpis(connection, population),
        theta_history=report_storage.read_theta_history(connection, population),
        topic_days=report_storage.read_topic_days(connection, population),
        item_difficulties=report_storage.read_item_difficulties(connection),
        seen_difficulties=report_storage.read_seen_difficulties(connection, population),
        goals=report_storage.read_goals(connection, population),
        adaptive_answers=report_storage.read_adaptive_answers(connection, population),
    )


class ReportStoreError(RuntimeError):
    """The object store cannot take the reports (no such bucket, refused credentials, unreachable)."""


def run(context: JobContext) -> JobResult:
    settings, log, options = context.settings, context.log, context.options
    week_start = monday(context.run_date)
    formats = formats_from(options.get("report_format") or settings.report_format)
    requested = list(options.get("user") or ())
    population = report_storage.ReportPopulation(week_start, context.shard, requested)
    with context.engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        frames = read_frames(connection, population)
    users = frames.users
    log.info(
        f"Generating reports for {len(users)} users; week={week_start}, format={','.join(formats)}, "
        f"dry_run={context.dry_run}"
    )
    missing = sorted(set(requested) - set(users))
    for user in missing:
        log.warn(f"No weekly_kpi row for user={user} week={week_start}; no report (counted as failed)")
    if not users:
        return _result([], len(missing), week_start)
    renderer = _checked_renderer(settings, formats)
    generated_at = context.now
    reports = report_data_by_user(frames, generated_at, settings.report_lang)
    if context.dry_run:
        return _dry_run(context, renderer, next(reports), len(users), formats, week_start, len(missing))
    store = object_store(settings)
    if settings.s3_bucket:  # a missing bucket or refused credentials: one line now, not a retry per file
        problem = bucket_problem(settings.s3_bucket, settings.aws_region, settings.s3_endpoint_url)
        if problem is not None:
            raise ReportStoreError(problem)
    log.info(f"Storing reports in {store.description}")
    if job_runs.unfinished_run_between(
        context.engine, JOB.name, week_start, week_start + timedelta(days=6), context.run_id
    ):
        _remove_unrecorded_files(context, store, population)
    render_settings = RenderSettings(store, formats, font_dirs(settings))
    workers = int(options.get("workers") or usable_cpus())

    def record(batch: list[UserOutcome]) -> None:
        with context.engine.begin() as connection:
            report_storage.upsert_report_artifacts(
                connection, week_start, _artifact_frame(batch, generated_at)
            )
        checkpoint("report-chunk")

    with progress_bar("Rendering reports", len(users)) as advance:
        outcomes = render_and_store(reports, len(users), render_settings, workers, advance, record=record)
    _log_outcomes(context, outcomes)
    return _result(outcomes, len(missing), week_start)


def _remove_unrecorded_files(
    context: JobContext, store: ObjectStore, population: report_storage.ReportPopulation
) -> None:
    """Delete the week's files of this run's shard that no report_artifacts row records."""
    with context.engine.connect() as connection:
        recorded = report_storage.read_artifact_urls(connection, population.week_start)
    orphans = [
        key
        for key in store.week_keys(population.week_start)
        if store.url(key) not in recorded and population.shard.contains(key_user(key))
    ]
    for key in orphans:
        store.delete(key)
    context.log.info(
        f"A run of week {population.week_start} did not finish: removed {len(orphans)} report files "
        "no report_artifacts row records"
    )


def _checked_renderer(settings: Settings, formats: tuple[str, ...]) -> ReportRenderer:
    """A renderer with fonts loaded; a missing Hangul font for Korean PDFs fails the run up front."""
    renderer = ReportRenderer(font_dirs(settings))
    if "pdf" in formats:
        renderer.warm_up().families()
    return renderer


def _dry_run(
    context: JobContext,
    renderer: ReportRenderer,
    sample: ReportData,
    users: int,
    formats: tuple[str, ...],
    week_start: date,
    missing: int,
) -> JobResult:
    report = renderer.render(sample, html="html" in formats, pdf="pdf" in formats)
    sizes = {"html": len(report.html.encode()) if report.html else 0, "pdf": len(report.pdf or b"")}
    shown = ", ".join(f"{name}={sizes[name]} bytes" for name in formats)
    context.log.info(
        f"[DRY_RUN] Would store {users * len(formats)} files for {users} users in "
        f"{object_store(context.settings).description} and upsert as many report_artifacts rows; "
        f"rendered user={sample.user_id} in memory as a sample: {shown}"
    )
    return JobResult(users, missing, summary=f"processed={users}, failed={missing}, week={week_start}")


def _artifact_frame(outcomes: list[UserOutcome], generated_at: datetime) -> pd.DataFrame:
    rows = [
        (a.user_id, a.format, a.stored.url, a.stored.bytes, a.stored.sha256, generated_at)
        for outcome in outcomes
        for a in outcome.artifacts
    ]
    return pd.DataFrame(rows, columns=list(report_storage.ARTIFACT_COLUMNS))


def _log_outcomes(context: JobContext, outcomes: list[UserOutcome]) -> None:
    log = context.log
    done = [outcome for outcome in outcomes if outcome.ok]
    for outcome in done[:SHOWN_SUCCESSES]:
        log.plain(f"[SUCCESS] Report generated: {outcome.artifacts[0].stored.url}")
    if len(done) > SHOWN_SUCCESSES:
        log.info(f"... and {len(done) - SHOWN_SUCCESSES} more reports generated")
    failed = [outcome for outcome in outcomes if not outcome.ok]
    for outcome in failed[:SHOWN_ERRORS]:
        log.error(f"user={outcome.user_id} error={'; '.join(outcome.errors)}")
    if len(failed) > SHOWN_ERRORS:
        log.error(f"... and {len(failed) - SHOWN_ERRORS} more users failed")
    skipped = sum(outcome.errors[0].startswith(NOT_ATTEMPTED) for outcome in failed)
    if skipped:
        log.error(f"Gave up after {GIVE_UP_AFTER} failed reports in a row: {skipped} reports not attempted")


def _result(outcomes: list[UserOutcome], missing: int, week_start: date) -> JobResult:
    written = sum(outcome.ok for outcome in outcomes)
    failed = len(outcomes) - written + missing
    metrics = {
        "reports_written": float(written),
        "reports_failed": float(failed),
        "report_files_written": float(sum(len(outcome.artifacts) for outcome in outcomes)),
        "report_bytes": float(sum(a.stored.bytes for outcome in outcomes for a in outcome.artifacts)),
    }
    return JobResult(
        written, failed, metrics, summary=f"processed={written}, failed={failed}, week={week_start}"
    )


def _check_formats(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            formats_from(value)
        except ValueError as error:
            raise click.BadParameter(str(error)) from None
    return value


JOB = Job(
    name="generate-weekly-report",
    description=(
        "Render each student's weekly report (HTML and/or PDF) for the ISO week containing --week/--date "
        "(default: the previous ISO week) for every user with a weekly_kpi row that week, in parallel, "
        "and store it in REPORT_DIR or the S3_BUCKET under reports/{user_id}/{week_start}/report.{html|pdf}, "
        "recording each file (url = file path or s3://bucket/key, bytes, sha256) in report_artifacts."
    ),
    run=run,
    default_date=lambda today: monday(today) - timedelta(days=1),
    options=(
        click.Option(
            ["--week", "date"],
            callback=parse_date,
            metavar="YYYY-MM-DD",
            help="Any day of the week to report on (same as --date; give one of them).",
        ),
        click.Option(
            ["--user", "user"],
            multiple=True,
            help="Only this user (repeatable). A user without a weekly_kpi row that week counts as failed.",
        ),
        click.Option(
            ["--format", "report_format"],
            callback=_check_formats,
            metavar="html,pdf",
            help="Formats to write (default: REPORT_FORMAT).",
        ),
        click.Option(
            ["--workers"],
            type=click.IntRange(min=1),
            help="Rendering processes (default: the CPUs this process may use).",
        ),
    ),
)

if __name__ == "__main__":
    main(JOB)
