"""`dreamseed demo` end to end: every source table and the view hold data, reports are written."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from dreamseed.cli.main import cli

SOURCE_TABLES = ("exam_results", "session", "question", "interest_goal", "attempt")
OUTPUT_TABLES = (
    "mirt_item_params",
    "mirt_ability_history",
    "features_topic_daily",
    "weekly_kpi",
    "report_artifacts",
    "ingest_quarantine",
)


@pytest.mark.slow
def test_demo_runs_the_whole_product(cli_env: dict[str, str], engine: Engine) -> None:
    result = CliRunner().invoke(cli, ["demo", "--students", "60", "--weeks", "4"])
    assert result.exit_code == 0, result.output
    with engine.connect() as connection:
        counts = {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in SOURCE_TABLES + OUTPUT_TABLES
        }
        failed = connection.execute(
            text("SELECT count(*) FROM job_runs WHERE status <> 'succeeded'")
        ).scalar_one()
    assert all(count > 0 for count in counts.values()), counts
    assert failed == 0
    reports = [
        Path(line.strip()) for line in result.output.splitlines() if line.strip().endswith("report.html")
    ]
    assert reports
    assert reports[0].exists()
    assert "rejected with their line numbers" in result.output


def test_demo_refuses_a_database_holding_other_data(cli_env: dict[str, str], engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO question (id, topic_id) VALUES (1, 'algebra')"))
    result = CliRunner().invoke(cli, ["demo", "--students", "20", "--weeks", "4"])
    assert result.exit_code == 1
    assert "did not create" in result.output
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM question")).scalar_one() == 1
