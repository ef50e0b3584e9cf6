"""refresh-console: the precomputed tables, idempotent, dry run writes nothing, orgs carried over."""

from __future__ import annotations

from sqlalchemy import text
from tests.console.conftest import END, Platform, org_of

from dreamseed.jobs.refresh_console import JOB
from dreamseed.runtime.runner import execute

TABLES = ("console_student", "console_cohort", "console_item", "console_quarantine")


def _rounded(value: object) -> object:
    """Floats to 12 significant digits: PostgreSQL's parallel aggregates may add in another order."""
    return float(f"{value:.12g}") if isinstance(value, float) else value


def _snapshot(platform: Platform) -> dict[str, list[tuple[object, ...]]]:
    with platform.engine.connect() as connection:
        return {
            table: sorted(
                tuple(_rounded(value) for value in values)
                for row in connection.execute(text(f"SELECT * FROM {table}")).mappings()
                for values in [{k: v for k, v in row.items() if k != "refreshed_at"}.values()]
            )
            for table in TABLES
        }


def test_tables_are_filled_with_orgs_reasons_and_items(platform: Platform) -> None:
    with platform.engine.connect() as connection:
        students = connection.execute(
            text("SELECT user_id, org_id, s, report_url FROM console_student")
        ).all()
        items = connection.execute(text("SELECT count(*), count(infit) FROM console_item")).one()
        cohort = connection.execute(
            text("SELECT DISTINCT org_key FROM console_cohort WHERE goal_key = '*'")
        ).scalars()
        quarantined = connection.execute(text("SELECT sum(n) FROM console_quarantine")).scalar_one()
    assert len(students) > 30
    assert all(org == org_of(user) for user, org, _s, _url in students)
    assert sum(url is not None for *_rest, url in students) > 10
    assert items[0] > 100
    assert items[1] > 50
    assert set(cohort) >= {"*", "1", "2"}
    assert quarantined == 3


def test_rerun_gives_the_same_rows_and_dry_run_writes_nothing(platform: Platform) -> None:
    before = _snapshot(platform)
    settings = platform.settings()
    assert execute(JOB, settings, platform.engine, run_date=END, dry_run=True) == 0
    assert _snapshot(platform) == before
    assert execute(JOB, settings, platform.engine, run_date=END) == 0
    assert _snapshot(platform) == before
