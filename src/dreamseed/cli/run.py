"""`dreamseed run <job>`: run one batch job (or the daily chain with `run all`)."""

from __future__ import annotations

import click

from dreamseed.runtime.registry import JOB_MODULES, available_jobs, load_job


class JobGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*available_jobs(), *sorted(super().list_commands(ctx))]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in JOB_MODULES and cmd_name in available_jobs():
            from dreamseed.runtime.command import job_command

            return job_command(load_job(cmd_name))
        return super().get_command(ctx, cmd_name)


@click.group(cls=JobGroup)
def run() -> None:
    """Run a batch job: `dreamseed run <job> [--date YYYY-MM-DD] [--dry-run]`.

    Every job is idempotent (re-running a date gives the same rows), atomic (an interrupted run
    leaves the previous state), writes nothing with --dry-run, and records a row in job_runs.
    """


def _register_orchestration() -> None:
    from dreamseed.cli.orchestrate import run_all

    run.add_command(run_all)


_register_orchestration()
