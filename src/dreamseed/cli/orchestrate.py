"""`dreamseed run all`, `dreamseed backfill` and `dreamseed runs`: the pipeline as a whole."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta

import click

from dreamseed.cli.context import database, echo_table, load_settings
from dreamseed.runtime.command import parse_past_date
from dreamseed.runtime.registry import JOB_MODULES


def _jobs(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[str] | None:
    if not value:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in JOB_MODULES]
    if unknown:
        raise click.BadParameter(f"unknown job(s) {', '.join(unknown)}; choose from {', '.join(JOB_MODULES)}")
    return names


def _report_step(outcome: object) -> None:
    from dreamseed.runtime.chain import StepOutcome

    assert isinstance(outcome, StepOutcome)
    if outcome.exit_code is None:
        click.echo(f"== {outcome.day} {outcome.job}: {outcome.note}")
    elif outcome.exit_code != 0:
        click.echo(
            f"== {outcome.day} {outcome.job}: FAILED (exit {outcome.exit_code}); downstream jobs are skipped",
            err=True,
        )


@click.command("all")
@click.option(
    "--date",
    "day",
    callback=parse_past_date,
    metavar="YYYY-MM-DD",
    help="The date, today or earlier (default: yesterday, UTC).",
)
@click.option("--jobs", callback=_jobs, metavar="A,B", help="Only these jobs (still in chain order).")
@click.option("--dry-run", is_flag=True, help="Every job computes and writes nothing.")
def run_all(day: date | None, jobs: list[str] | None, dry_run: bool) -> None:
    """Run the daily chain for one date in dependency order.

    mirt-calibrate → aggregate-features-daily → compute-daily-kpis → detect-inactivity, and
    generate-weekly-report when the date is a Sunday (the week that just ended). When a job fails,
    the jobs after it are skipped and the command exits 1.
    """
    from dreamseed.runtime.chain import run_chain

    settings = load_settings()
    day = day or datetime.now(UTC).date() - timedelta(days=1)
    with database(settings) as engine:
        outcomes = run_chain(settings, engine, day, jobs, dry_run=dry_run, on_step=_report_step)
    sys.exit(1 if any(o.exit_code not in (None, 0) for o in outcomes) else 0)


@click.command()
@click.option(
    "--from", "first", callback=parse_past_date, required=True, metavar="YYYY-MM-DD", help="First date."
)
@click.option(
    "--to",
    "last",
    callback=parse_past_date,
    required=True,
    metavar="YYYY-MM-DD",
    help="Last date (inclusive).",
)
@click.option("--jobs", callback=_jobs, metavar="A,B", help="Only these jobs (default: the whole chain).")
@click.option("--force", is_flag=True, help="Re-run days whose jobs already succeeded.")
def backfill(first: date, last: date, jobs: list[str] | None, force: bool) -> None:
    """Replay the daily chain day by day from --from to --to.

    Resumable: (job, date) pairs that already succeeded are skipped unless --force. Stops at
    the first failing day, saying which job failed; fix it and run the same command again.
    """
    from dreamseed.cli.progress import count_progress
    from dreamseed.runtime.chain import days_between, run_chain

    if last < first:
        raise click.BadParameter("--to is before --from")
    settings = load_settings()
    days = days_between(first, last)
    with database(settings) as engine, count_progress("backfill", len(days)) as advance:
        for day in days:
            outcomes = run_chain(settings, engine, day, jobs, skip_succeeded=not force, on_step=_report_step)
            advance(1)
            failed = [o for o in outcomes if o.exit_code not in (None, 0)]
            if failed:
                click.echo(
                    f"backfill stopped at {day}: {failed[0].job} failed. Fix the cause and re-run the same "
                    "command; succeeded days are skipped.",
                    err=True,
                )
                sys.exit(1)
    click.echo(f"backfill done: {len(days)} day(s) from {first} to {last}")


@click.command()
@click.option("--job", type=click.Choice(list(JOB_MODULES)), help="Only this job.")
@click.option("--limit", default=20, show_default=True, help="How many runs to show.")
def runs(job: str | None, limit: int) -> None:
    """List recent job runs (job, date, status, processed, failed, duration), newest first.

    A run still marked running whose process died (its advisory lock is free) is marked abandoned
    first, so the list tells the truth (and the job's metrics are pushed as a failed run).
    """
    from dreamseed.runtime.runner import abandon_dead_runs
    from dreamseed.storage import job_runs

    settings = load_settings()
    with database(settings) as engine:
        abandon_dead_runs(settings, engine, job)
        rows = job_runs.recent(engine, limit, job)
    if not rows:
        click.echo("no job runs recorded yet")
        return
    echo_table(
        [
            (
                r["job"],
                r["run_date"],
                r["status"],
                r["processed"],
                r["failed"],
                r["duration_ms"],
                f"{r['started_at']:%Y-%m-%d %H:%M:%S}",
                (r["error"] or "")[:60],
            )
            for r in rows
        ],
        ("JOB", "DATE", "STATUS", "PROCESSED", "FAILED", "MS", "STARTED (UTC)", "ERROR"),
    )
