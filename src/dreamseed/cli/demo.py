"""`dreamseed demo`: the whole product on a synthetic platform, with no arguments needed."""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING

import click

from dreamseed.cli.context import UserError, database, load_settings
from dreamseed.cli.progress import staged_progress
from dreamseed.settings import Settings

if TYPE_CHECKING:
    from dreamseed.demo import DemoOutcome


@click.command()
@click.option(
    "--students", default=500, show_default=True, type=click.IntRange(min=20), help="Students to simulate."
)
@click.option(
    "--weeks", default=8, show_default=True, type=click.IntRange(min=4, max=26), help="Weeks of history."
)
@click.option("--seed", default=2026, show_default=True, help="Random seed (same seed, same data).")
@click.option("--force", is_flag=True, help="Wipe a database that holds data the demo did not create.")
@click.option("--verbose", is_flag=True, help="Show every job's log lines.")
def demo(students: int, weeks: int, seed: int, force: bool, verbose: bool) -> None:
    """Synthesise a platform, load it, run every job over the period and write the reports.

    Uses the embedded PostgreSQL server under DREAMSEED_HOME (or DATABASE_URL if set) and replaces
    what the demo loaded last time. Takes a few minutes on a laptop.
    """
    from dreamseed.demo import DemoPlan, DemoRefused, run_demo
    from dreamseed.jobs.chain import StepOutcome

    settings = load_settings()
    if not verbose:
        settings = settings.model_copy(update={"log_level": "WARNING"})

    def on_step(outcome: StepOutcome) -> None:
        if outcome.exit_code not in (None, 0):
            click.echo(f"   {outcome.day} {outcome.job} FAILED (exit {outcome.exit_code})", err=True)

    plan = DemoPlan(students=students, weeks=weeks, seed=seed)
    with database(settings) as engine, staged_progress({"chain": "   daily chain"}) as progress:
        try:
            outcome = run_demo(
                settings, engine, plan, dt.datetime.now(dt.UTC).date(), click.echo, on_step, progress, force
            )
        except DemoRefused as error:
            raise UserError(str(error)) from None
        except RuntimeError as error:
            click.echo(f"demo failed: {error}", err=True)
            sys.exit(1)
    _print_outcome(settings, outcome)


def _print_outcome(settings: Settings, outcome: DemoOutcome) -> None:
    click.echo("\n4. What is in the database now:")
    width = max(len(name) for name in outcome.counts)
    for table, count in outcome.counts.items():
        click.echo(f"     {table.ljust(width)}  {count:>9,}")
    if outcome.showcase_user is not None:
        folder = settings.reports_dir / "reports" / outcome.showcase_user / outcome.report_week.isoformat()
        files = [folder / name for name in ("report.html", "report.pdf") if (folder / name).exists()]
        if files:
            click.echo("\nOpen a weekly report (an active student with a long history):")
            for path in files:
                click.echo(f"     {path}")
    click.echo(
        "\nNext:\n"
        '  psql "$(dreamseed db url)"            look at the tables (weekly_kpi, mirt_item_params, ...)\n'
        "  dreamseed runs                        what each job did\n"
        "  dreamseed run all --help              run the chain yourself\n"
        "  dreamseed serve                       the HTTP service (OpenAPI docs at /docs)\n"
        "  dreamseed db stop                     stop the embedded database"
    )
