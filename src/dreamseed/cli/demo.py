"""`dreamseed demo`: the whole product on a synthetic platform, with no arguments needed."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dreamseed.cli.context import UserError, database, load_settings
from dreamseed.cli.options import students_option, weeks_option
from dreamseed.cli.progress import staged_progress
from dreamseed.settings import Settings

if TYPE_CHECKING:
    from dreamseed.demo import DemoOutcome


@click.command()
@students_option(default=500, minimum=20)
@weeks_option(default=8, minimum=4, maximum=26)
@click.option("--seed", default=2026, show_default=True, help="Random seed (same seed, same data).")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Use DIR instead of DREAMSEED_HOME: its own embedded database, demo files and reports.",
)
@click.option(
    "--reset",
    "--force",
    "reset",
    is_flag=True,
    help="Delete every row of a database that holds data the demo did not load (it lists them first).",
)
@click.option("--verbose", is_flag=True, help="Show every job's log lines.")
@click.option(
    "--stream",
    is_flag=True,
    help="Load the exam results through NATS JetStream (a local nats-server, the stream worker) "
    "instead of the file loader.",
)
def demo(
    students: int, weeks: int, seed: int, home: Path | None, reset: bool, verbose: bool, stream: bool
) -> None:
    """Synthesise a platform, load it, run every job over the period and write the reports.

    Uses the embedded PostgreSQL server under DREAMSEED_HOME (or --home, or DATABASE_URL if set)
    and replaces what the demo loaded last time. It never deletes rows it did not load itself: on a
    database holding anyone else's data it stops, lists them and deletes nothing (unless --reset).
    Takes a minute or two on a laptop.
    """
    from dreamseed.demo import DemoPlan, DemoRefused, run_demo
    from dreamseed.runtime.chain import StepOutcome

    settings = load_settings()
    if home is not None:
        settings = settings.model_copy(update={"dreamseed_home": home.expanduser().resolve()})
    if not verbose:
        settings = settings.model_copy(update={"log_level": "WARNING"})

    def on_step(outcome: StepOutcome) -> None:
        if outcome.exit_code not in (None, 0):
            click.echo(f"   {outcome.day} {outcome.job} FAILED (exit {outcome.exit_code})", err=True)

    plan = DemoPlan(students=students, weeks=weeks, seed=seed, stream=stream)
    with database(settings) as engine, staged_progress({"chain": "   daily chain"}) as progress:
        try:
            outcome = run_demo(
                settings, engine, plan, dt.datetime.now(dt.UTC).date(), click.echo, on_step, progress, reset
            )
        except DemoRefused as error:
            raise UserError(str(error)) from None
        except RuntimeError as error:
            click.echo(f"demo failed: {error}", err=True)
            sys.exit(1)
    _print_outcome(settings, outcome, home)


def _print_outcome(settings: Settings, outcome: DemoOutcome, home: Path | None) -> None:
    from dreamseed.demo import demo_console_login

    click.echo("\n4. What is in the database now:")
    width = max(len(name) for name in outcome.counts)
    for table, count in outcome.counts.items():
        click.echo(f"     {table.ljust(width)}  {count:>9,}")
    reports = settings.reports_dir / "reports"
    if settings.s3_bucket:
        click.echo(f"\nWeekly reports: s3://{settings.s3_bucket}/reports/<user_id>/{outcome.report_week}/")
    else:
        click.echo(f"\nWeekly reports (one folder per student, named by the week's Monday): {reports}")
    if outcome.showcase_user is not None:
        folder = reports / outcome.showcase_user / outcome.report_week.isoformat()
        files = [folder / name for name in ("report.html", "report.pdf") if (folder / name).exists()]
        if files:
            click.echo("Open one (an active student with a long history):")
            for path in files:
                click.echo(f"     {path}")
    timings = ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in outcome.stage_seconds.items())
    click.echo(f"\nTime: {timings}; total {sum(outcome.stage_seconds.values()):.1f}s")
    users, name, password = demo_console_login(settings.dreamseed_home)
    click.echo(
        "\nThe console (this week's at-risk students, a student's θ, the item bank, the pipeline):\n"
        f'  CONSOLE_USERS="$(cat {users})" dreamseed serve\n'
        f"  then open http://127.0.0.1:8000/console/ and sign in as {name}, password {password}"
    )
    if home is not None:
        click.echo(
            f"\nThe commands below use DREAMSEED_HOME: first `export DREAMSEED_HOME={settings.dreamseed_home}`"
        )
    click.echo(
        "\nNext:\n"
        "  dreamseed runs                        what each job did (status, counts, durations)\n"
        '  psql "$(dreamseed db url)"            look at the tables, for example the students most at risk:\n'
        "      SELECT user_id, kpis->>'S' AS churn_risk FROM weekly_kpi\n"
        f"      WHERE week_start = '{outcome.report_week}' ORDER BY (kpis->>'S')::float DESC LIMIT 10;\n"
        "  dreamseed run all --help              run the chain yourself\n"
        "  dreamseed serve                       the HTTP service (OpenAPI docs at /docs, console at /console/)\n"
        "  dreamseed db stop                     stop the embedded database"
    )
