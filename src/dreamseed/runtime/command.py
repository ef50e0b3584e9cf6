"""A click command per job: `dreamseed run <job>` and `python -m dreamseed.jobs.<module>` share it."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from typing import Any

import click

from dreamseed.runtime.runner import EXIT_LOCKED, Job, execute
from dreamseed.storage.shard import Shard

_EXIT_CODES = (
    f"Exit status: 0 on success; 1 when any entity failed or on a fatal error; {EXIT_LOCKED} when another "
    "run of the same job holds its lock (nothing was done)."
)


def parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """Click callback: a YYYY-MM-DD option as a date (None when absent)."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from None


def parse_past_date(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    """Click callback: a YYYY-MM-DD job date, refused when it is after today (UTC).

    Jobs compute "as of" their date, so a date that has not happened would count days with no
    data as inactivity and churn.
    """
    day = parse_date(ctx, param, value)
    today = datetime.now(UTC).date()
    if day is not None and day > today:
        raise click.BadParameter(
            f"{day} is in the future (today is {today} UTC); jobs run as of a day that has happened, "
            "give today or an earlier date"
        )
    return day


def _parse_shard(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Shard | None:
    if value is None:
        return None  # the settings' JOB_COMPLETION_INDEX/COUNT, read in the callback
    try:
        return Shard.parse(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def job_command(job: Job) -> click.Command:
    """The click command that runs `job` with the shared options plus the job's own."""

    def callback(date: date | None, dry_run: bool, shard: Shard | None, **options: Any) -> None:
        from dreamseed.runtime.edge import database, load_settings

        settings = load_settings()
        shard = shard or Shard.from_settings(settings)
        with database(settings) as engine:
            code = execute(
                job, settings, engine, run_date=date, dry_run=dry_run, shard=shard, options=options
            )
        sys.exit(code)

    params: list[click.Parameter] = [
        click.Option(
            ["--date", "date"],
            callback=parse_past_date,
            metavar="YYYY-MM-DD",
            help="The job's date (default: see above).",
        ),
        click.Option(
            ["--dry-run"], is_flag=True, help="Compute and print what would be written; write nothing."
        ),
        click.Option(
            ["--shard"],
            callback=_parse_shard,
            metavar="i/N",
            help="Process only shard i of N (stable hash of user_id); default from "
            "JOB_COMPLETION_INDEX/JOB_COMPLETION_COUNT when set.",
        ),
        *job.options,
    ]
    return click.Command(job.name, callback=callback, params=params, help=job.description, epilog=_EXIT_CODES)


def main(job: Job) -> None:
    """Entry point of `python -m dreamseed.jobs.<module>` (what the Kubernetes CronJobs call)."""
    job_command(job).main(prog_name=f"python -m dreamseed.jobs.{job.name.replace('-', '_')}")
