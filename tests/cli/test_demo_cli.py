"""`dreamseed demo` end to end: every source table and the view hold data, reports are written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from dreamseed.cli.main import cli
from dreamseed.console.users import parse_users, verify_password
from dreamseed.demo import DEMO_KEY, foreign_data, prepare_database
from dreamseed.storage import meta

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
    assert "Time: synthesise" in result.output
    assert "dreamseed runs" in result.output
    login = re.search(
        r'CONSOLE_USERS="\$\(cat (\S+)\)".*sign in as demo, password (\S+)', result.output, re.DOTALL
    )
    assert login is not None
    (demo_user,) = parse_users(Path(login[1]).read_text()).values()
    assert demo_user.role == "admin"
    assert verify_password(login[2], demo_user.password_hash)

    # A user then loads their own rows into the same database: a second demo must keep every one.
    with engine.begin() as connection:
        connection.execute(text(USER_ROWS))
    before = user_table_rows(engine)
    again = CliRunner().invoke(cli, ["demo", "--students", "60", "--weeks", "4"])
    assert again.exit_code == 1
    assert "changed after the demo loaded it" in again.output
    assert "exam_results" in again.output
    assert "--reset" in again.output
    assert "Traceback" not in again.output
    assert user_table_rows(engine) == before


USER_ROWS = """
INSERT INTO exam_results (id, session_id, user_id, exam_id, status, result_json)
VALUES (gen_random_uuid(), 'mine-1', 'my-student', 1, 'completed', '{"questions": []}');
INSERT INTO interest_goal (user_id, topic_id, target_level) VALUES ('my-student', 'algebra', 1.0);
"""


def user_table_rows(engine: Engine) -> dict[str, list[str]]:
    """Every row of the tables users load, as text (sorted), to compare before and after."""
    with engine.connect() as connection:
        return {
            table: sorted(connection.execute(text(f"SELECT t::text FROM {table} t")).scalars())
            for table in ("exam_results", "session", "question", "interest_goal", "ingest_quarantine")
        }


def test_demo_refuses_a_database_holding_other_data(cli_env: dict[str, str], engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO question (id, topic_id) VALUES (1, 'algebra')"))
    result = CliRunner().invoke(cli, ["demo", "--students", "20", "--weeks", "4"])
    assert result.exit_code == 1
    assert "did not create (question 1 rows)" in result.output
    assert "deleted nothing" in result.output
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM question")).scalar_one() == 1


def test_reset_names_what_it_deletes(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO question (id, topic_id) VALUES (1, 'algebra')"))
    said: list[str] = []
    prepare_database(engine, True, said.append)
    assert said == ["Deleting, as --reset asked: question 1 rows"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM question")).scalar_one() == 0


def test_a_demo_database_stays_the_demos_after_its_own_jobs(engine: Engine) -> None:
    """Only users' writes count: the IRT parameters the jobs store in question.meta do not."""
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO question (id, topic_id) VALUES (1, 'algebra')"))
    meta.put(engine, DEMO_KEY, {"fingerprint": meta.user_data_fingerprint(engine)})
    with engine.begin() as connection:
        connection.execute(text("""UPDATE question SET meta = '{"irt": {"a": 1.2}}'"""))
    assert foreign_data(engine) is None
    with engine.begin() as connection:
        connection.execute(text("UPDATE question SET topic_id = 'geometry'"))
    assert foreign_data(engine) == (
        "this database changed after the demo loaded it (question 1 rows then, 1 now)"
    )


def test_demo_help_offers_home_and_reset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DREAMSEED_HOME", str(tmp_path / "default"))
    result = CliRunner().invoke(cli, ["demo", "--help"])
    assert "--home" in result.output
    assert "--reset" in result.output


def shown_counts(output: str) -> dict[str, str]:
    """The demo's "What is in the database now" table: table name -> count as printed."""
    table = output.split("What is in the database now:")[1].split("\n\n")[0]
    return dict(line.split() for line in table.strip().splitlines())


@pytest.mark.slow
def test_demo_through_the_stream_lands_what_the_file_loader_lands(
    cli_env: dict[str, str], engine: Engine
) -> None:
    small = ["demo", "--students", "30", "--weeks", "4"]
    streamed = CliRunner().invoke(cli, [*small, "--stream"])
    assert streamed.exit_code == 0, streamed.output
    assert "through NATS JetStream" in streamed.output
    assert "rejected with their stream sequence numbers" in streamed.output
    with engine.connect() as connection:
        sources = set(connection.execute(text("SELECT DISTINCT source FROM ingest_quarantine")).scalars())
    assert "stream:EXAM_RESULTS" in sources
    assert "exam_results.jsonl" not in sources
    from_file = CliRunner().invoke(cli, small)  # the same seed and dates: the same platform
    assert from_file.exit_code == 0, from_file.output
    assert "through the ingestion path" in from_file.output
    assert shown_counts(streamed.output) == shown_counts(from_file.output)
    assert int(shown_counts(streamed.output)["exam_results"].replace(",", "")) > 0
