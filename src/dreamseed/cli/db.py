"""`dreamseed db`: the database URL, migrations, and the embedded server's life cycle."""

from __future__ import annotations

import click

from dreamseed.cli.context import UserError, database, load_settings
from dreamseed.settings import Settings
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
    """Say which database is used and check that it answers (exit 1 when it does not)."""
    from dreamseed.cli.settings_view import mask_secret

    settings = load_settings()
    if settings.database_url is not None:
        shown = mask_secret("DATABASE_URL", settings.database_url.get_secret_value())
        click.echo(f"using DATABASE_URL: {shown}")
        click.echo(f"server: {_server_version(settings)}, reachable")
        return
    current = embedded.status(settings.dreamseed_home)
    if not current.initialised:
        click.echo(
            f"embedded PostgreSQL: not created yet (it is created on first use); data in {current.data_dir}"
        )
        return
    if not current.running:
        click.echo(f"embedded PostgreSQL: stopped (started on first use); data in {current.data_dir}")
        return
    version = _server_version(settings)
    click.echo(
        f"embedded PostgreSQL: running (pid {current.pid}), {version}, reachable; data in {current.data_dir}"
    )


def _server_version(settings: Settings) -> str:
    """The server's version after a real round trip (SELECT 1); a UserError when it cannot be reached."""
    from sqlalchemy import text

    with database(settings, migrate=False) as engine, engine.connect() as connection:
        connection.execute(text("SELECT 1"))
        version = str(connection.execute(text("SHOW server_version")).scalar_one())
    return f"PostgreSQL {version.split()[0]}"
