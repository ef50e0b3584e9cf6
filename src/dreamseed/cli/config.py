"""`dreamseed config`: the effective settings, secrets masked."""

from __future__ import annotations

import click

from dreamseed.cli.context import echo_table, load_settings
from dreamseed.settings import effective_settings


@click.command()
@click.option("--markdown", is_flag=True, help="Print the settings reference as a Markdown table.")
def config(markdown: bool) -> None:
    """Print every setting: its environment variable, effective value (secrets masked) and help."""
    rows = effective_settings(load_settings())
    if markdown:
        click.echo("| variable | default | what it does |\n|---|---|---|")
        for name, value, help_text in rows:
            click.echo(f"| `{name}` | `{value}` | {help_text} |")
        return
    echo_table([(name, value) for name, value, _ in rows], ("VARIABLE", "VALUE"))
