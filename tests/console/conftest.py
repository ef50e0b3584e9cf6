"""A small synthetic platform in two orgs, processed by the daily chain, shared by the console tests.

Students with an even number are in org 1, odd ones in org 2 (the synthetic platform has no orgs;
the lines get an ``org_id`` before they are loaded through the production ingestion path).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, make_url

from dreamseed.console.users import ConsoleUser, hash_password, users_json
from dreamseed.demo import _load, chain_days
from dreamseed.runtime.chain import run_chain
from dreamseed.runtime.registry import available_jobs
from dreamseed.settings import Settings
from dreamseed.storage.database import create_database_engine, normalise_url
from dreamseed.synth import SynthConfig, generate_platform, write_platform

END = dt.date(2026, 11, 29)  # a Sunday: the chain writes that week's reports
PASSWORDS = {"admin": "admin-pass-1", "kim": "kim-pass-12", "lee": "lee-pass-12"}
API_TOKEN = "console-test-token"


@dataclass(frozen=True)
class Platform:
    database_url: str
    home: Path
    engine: Engine

    def settings(self, **overrides: object) -> Settings:
        return Settings(
            database_url=self.database_url,
            dreamseed_home=self.home,
            console_users=console_users(),
            console_secret_key="console-test-key",
            **overrides,  # type: ignore[arg-type]
        )


def console_users() -> str:
    users = {
        "admin": ConsoleUser("admin", "admin", frozenset(), hash_password(PASSWORDS["admin"])),
        "kim": ConsoleUser("kim", "teacher", frozenset({1}), hash_password(PASSWORDS["kim"])),
        "lee": ConsoleUser("lee", "teacher", frozenset({2}), hash_password(PASSWORDS["lee"])),
    }
    return users_json(users)


def org_of(user_id: str) -> int:
    return 1 if int(user_id.lstrip("u")) % 2 == 0 else 2


def _with_orgs(path: Path) -> None:
    lines = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            lines.append(line)
            continue
        if (
            isinstance(record, dict)
            and isinstance(record.get("user_id"), str)
            and record["user_id"][1:].isdigit()
        ):
            record["org_id"] = org_of(record["user_id"])
            line = json.dumps(record)
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="session")
def platform(
    admin_url: str, template_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    name = f"dreamseed_console_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "dreamseed_test_template"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    home = tmp_path_factory.mktemp("console-home")
    engine = create_database_engine(normalise_url(url))
    settings = Settings(database_url=url, dreamseed_home=home)
    config = SynthConfig(students=60, weeks=4, seed=11, end_date=END, bad_rows=3)
    out = home / "data"
    write_platform(generate_platform(config), out)
    _with_orgs(out / "exam_results.jsonl")
    _load(settings, engine, out, lambda _line: None, 0.0, stream=False)
    everything_but_reports = [job for job in available_jobs() if job != "generate-weekly-report"]
    for day in chain_days(config.start_date, END, 3):
        outcomes = run_chain(settings, engine, day, None if day == END else everything_but_reports)
        assert all(o.exit_code in (None, 0) for o in outcomes), outcomes
    yield Platform(url, home, engine)
    engine.dispose()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
