"""The `dreamseed` command: one entry point, one subcommand module per area.

Subcommands are imported lazily so `dreamseed --help` and quick commands start fast.
Each entry maps a command name to ``module:attribute`` holding a click command or group.
"""

from __future__ import annotations

import importlib

import click

from dreamseed import __version__

SUBCOMMANDS: dict[str, str] = {
    "config": "dreamseed.cli.config:config",
    "db": "dreamseed.cli.db:db",
    "ingest": "dreamseed.cli.ingest:ingest",
    "synth": "dreamseed.cli.synth:synth",
    "irt": "dreamseed.cli.irt:irt",
    "run": "dreamseed.cli.run:run",
    "demo": "dreamseed.cli.demo:demo",
    "backfill": "dreamseed.cli.orchestrate:backfill",
    "runs": "dreamseed.cli.orchestrate:runs",
    "model": "dreamseed.cli.model:model",
    "serve": "dreamseed.cli.serve:serve",
    "evaluate": "dreamseed.cli.evaluate:evaluate",
    "cat": "dreamseed.cli.cat:cat",
    "stream": "dreamseed.cli.stream:stream",
    "console": "dreamseed.cli.console:console",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dreamseed")
def cli() -> None:
    """DreamSeed Analytics: exam results in; features, IRT calibration, weekly KPIs,
    inactivity alerts and weekly reports out.

    Start with `dreamseed demo`. Without DATABASE_URL every command uses an embedded
    PostgreSQL server under DREAMSEED_HOME (see `dreamseed db --help`).
    """


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
