"""`dreamseed db`: the database URL, migrations, and the embedded server's life cycle."""

from __future__ import annotations

import click

from dreamseed.cli.context import UserError, database, load_settings
from dreamseed.storage import embedded


@click.group()
def db() -> None:
    """Database commands.

    Without DATABASE_URL, DreamSeed runs its own PostgreSQL server (data under
    DREAMSEED_HOME/pgdata). Commands that need it start it and leave it running for the next
    command; `dreamseed db stop` stops it.
    """


@db.command()
def url() -> None:
    """Print the connection URL, e.g. for `psql "$(dreamseed db url)"`."""
    from dreamseed.storage.database import DatabaseUrlError, libpq_url, resolve_url

    try:
        click.echo(libpq_url(resolve_url(load_settings())))
    except DatabaseUrlError as error:
        raise UserError(str(error)) from None


@db.command()
def upgrade() -> None:
    """Apply the schema migrations (creates every table and view)."""
    from dreamseed.storage import migrate

    with database(load_settings(), migrate=False) as engine:
        before = migrate.current_revision(engine)
        migrate.upgrade(engine)
        after = migrate.current_revision(engine)
    click.echo(f"schema at {after}" + ("" if before == after else f" (was {before or 'empty'})"))


@db.command()
def start() -> None:
    """Start the embedded server (no-op with DATABASE_URL)."""
    settings = load_settings()
    if settings.database_url is not None:
        click.echo("DATABASE_URL is set: using that server, nothing to start.")
        return
    embedded.ensure_running(settings.dreamseed_home)
    current = embedded.status(settings.dreamseed_home)
    click.echo(f"embedded PostgreSQL running (pid {current.pid}), data in {current.data_dir}")


@db.command()
def stop() -> None:
    """Stop the embedded server."""
    settings = load_settings()
    if embedded.stop(settings.dreamseed_home):
        click.echo("embedded PostgreSQL stopped")
    else:
        click.echo("embedded PostgreSQL was not running")


@db.command()
def status() -> None:
    """Say which database is used and whether the embedded server runs."""
    from dreamseed.settings import mask_secret

    settings = load_settings()
    if settings.database_url is not None:
        click.echo(
            f"using DATABASE_URL: {mask_secret('DATABASE_URL', settings.database_url.get_secret_value())}"
        )
    current = embedded.status(settings.dreamseed_home)
    state = f"running (pid {current.pid})" if current.running else "stopped"
    if not current.initialised:
        state = "not created yet (it is created on first use)"
    click.echo(f"embedded PostgreSQL: {state}; data in {current.data_dir}")
