"""`dreamseed config`: every setting's effective value (secrets masked), where it comes from, and its help."""

from __future__ import annotations

import textwrap

import click

from dreamseed.cli.context import load_settings
from dreamseed.cli.settings_view import effective_settings
from dreamseed.settings import Settings, field_names


@click.command()
@click.option("--markdown", is_flag=True, help="Print the settings reference as a Markdown table.")
def config(markdown: bool) -> None:
    """Print every setting: its environment variable, effective value (secrets masked) and help.

    Each value says where it comes from: "(from the environment)" or "(default: …)". Paths that
    default to another setting (REPORT_DIR to DREAMSEED_HOME, the embedded database under
    DREAMSEED_HOME/pgdata) show the path actually used.
    """
    settings = load_settings()
    rows = effective_settings(settings)
    if markdown:
        click.echo("| variable | default | what it does |\n|---|---|---|")
        for name, value, help_text in rows:
            click.echo(f"| `{name}` | `{value}` | {help_text} |")
        return
    given = set(settings.model_fields_set)
    for (name, value, help_text), field in zip(rows, field_names(), strict=True):
        click.echo(f"{name} = {_shown_value(settings, field, value, field in given)}")
        for line in textwrap.wrap(help_text, width=100):
            click.echo(f"    {line}")


def _shown_value(settings: Settings, field: str, value: str, from_environment: bool) -> str:
    """The value with its provenance; an unset setting with a fallback shows what is used instead."""
    if from_environment:
        return f"{value} (from the environment)"
    fallbacks = {
        "dreamseed_home": f"{settings.dreamseed_home} (default: the user data directory)",
        "report_dir": f"{settings.reports_dir} (default: DREAMSEED_HOME; reports go to "
        f"{settings.reports_dir / 'reports'})",
        "database_url": f"unset (default: the embedded server, data in {settings.dreamseed_home / 'pgdata'})",
        "s3_bucket": "unset (default: reports are stored in REPORT_DIR)",
    }
    if field in fallbacks:
        return fallbacks[field]
    return f"{value} (default)" if value else "unset (default)"
