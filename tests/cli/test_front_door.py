"""A user's mistake gives one clear line and a non-zero exit, never a traceback (issue #15)."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import make_url

from dreamseed.cli.main import cli


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def assert_clean_failure(result: Result, *fragments: str) -> None:
    """Exit non-zero with an `Error:` line containing every fragment, and no traceback."""
    assert result.exit_code not in (0, None), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    for fragment in fragments:
        assert fragment in errors[0], result.output


def tomorrow() -> str:
    return (datetime.now(UTC).date() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    "command",
    [
        ["run", "compute-daily-kpis", "--date", "{future}"],
        ["run", "all", "--date", "{future}"],
        ["backfill", "--from", "2026-01-01", "--to", "{future}"],
        ["backfill", "--from", "{future}", "--to", "{future}"],
    ],
)
def test_a_future_date_is_refused(command: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    result = invoke(*(part.replace("{future}", tomorrow()) for part in command))
    assert_clean_failure(result, "is in the future", "UTC", "today or an earlier date")


@pytest.mark.parametrize(
    "command",
    [
        ["run", "compute-daily-kpis", "--date", "2026-13-01"],
        ["run", "all", "--date", "2026-02-30"],
        ["backfill", "--from", "yesterday", "--to", "2026-01-02"],
    ],
)
def test_a_malformed_date_is_refused(command: list[str]) -> None:
    assert_clean_failure(invoke(*command), "expected YYYY-MM-DD")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["irt", "fit", "{csv}", "--out", "{out}"],
        ["irt", "score", "{csv}", "--items", "{csv}", "--out", "{out}/s.csv"],
    ],
)
@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (None, ["does not exist"]),
        ("a,b\n1,2\n", ["lacks column(s)", "user_id"]),
        ("", ["is empty"]),
        (b"\xff\xfe\x00garbage", ["not a readable CSV"]),
        (
            '{"session_id":"s1","user_id":"u1","result_json":{"questions":[]}}\n',
            ["JSONL exam-results", "export-responses"],
        ),
    ],
)
def test_unusable_input_files(
    tmp_path: Path, command: list[str], content: str | bytes | None, fragments: list[str]
) -> None:
    path = tmp_path / "input.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        write(path, content)
    args = [part.replace("{csv}", str(path)).replace("{out}", str(tmp_path / "out")) for part in command]
    assert_clean_failure(invoke(*args), *fragments)
    assert not (tmp_path / "out").exists()


def test_a_directory_is_not_a_responses_file(tmp_path: Path) -> None:
    assert_clean_failure(
        invoke("irt", "fit", str(tmp_path), "--out", str(tmp_path / "out")), "is a directory"
    )


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("user_id,item_id,correct\nu1,i1,1\nu1,i2,x\n", ["correct must be 0 or 1", "(line 3)"]),
        ("user_id,item_id,correct\nu1,i1,1\n\n\nu2,i1,maybe\n", ["'maybe'", "(line 5)"]),
        ("user_id,item_id,correct\nu1,i1,\nu2,i1,\n", ["2 missing value(s)", "(lines 2, 3)"]),
        ("user_id,item_id,correct\nu1,i1,1\n ,i2,0\n", ["user_id is empty on line 3"]),
        ("user_id,item_id,correct\nu1,i1,1\nu1,i1,1,5\n", ["Expected 3 fields in line 3"]),
        ("user_id,item_id,correct\nu1,i1,1,5\n", ["more fields than the header"]),
    ],
)
def test_response_errors_name_the_line_of_the_file(tmp_path: Path, text: str, fragments: list[str]) -> None:
    path = write(tmp_path / "responses.csv", text)
    assert_clean_failure(invoke("irt", "fit", str(path), "--out", str(tmp_path / "out")), *fragments)


def test_item_errors_name_the_line_of_the_file(tmp_path: Path) -> None:
    responses = write(tmp_path / "r.csv", "user_id,item_id,correct\nu1,i1,1\nu2,i1,0\n")
    items = write(tmp_path / "items.csv", "item_id,a,b\ni1,1.0,0.0\n\ni2,x,0.5\n")
    result = invoke("irt", "score", str(responses), "--items", str(items), "--out", str(tmp_path / "s.csv"))
    assert_clean_failure(result, "column a is not a number on line 4")


CLOSED_PORT_URL = "postgresql://u:wrong@127.0.0.1:1/x?connect_timeout=2"


@pytest.mark.parametrize(
    "command", [["runs"], ["db", "upgrade"], ["db", "status"], ["run", "all", "--date", "2026-01-05"]]
)
def test_a_database_that_is_down_gives_one_line(command: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", CLOSED_PORT_URL)
    assert_clean_failure(invoke(*command), "cannot reach the database", "Connection refused", "DATABASE_URL")


def test_db_status_checks_the_server_it_reports_on(cli_env: dict[str, str]) -> None:
    result = invoke("db", "status")
    assert result.exit_code == 0, result.output
    assert "reachable" in result.output
    assert "PostgreSQL" in result.output


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        ({"username": "nobody_here"}, ['role "nobody_here" does not exist', "user name and password"]),
        ({"database": "no_such_db"}, ['database "no_such_db" does not exist', "create that database"]),
    ],
)
def test_a_server_that_refuses_us_gives_one_line(
    admin_url: str, monkeypatch: pytest.MonkeyPatch, change: dict[str, str], fragments: list[str]
) -> None:
    # The embedded test server trusts local connections, so a refused role or database stands in for a
    # refused password (same code path: the server's FATAL message).
    url = make_url(admin_url).set(**change).render_as_string(hide_password=False)  # type: ignore[arg-type]
    monkeypatch.setenv("DATABASE_URL", url)
    for command in (["db", "status"], ["runs"]):
        assert_clean_failure(invoke(*command), "cannot reach the database", *fragments)


def test_a_wrong_password_gives_one_line() -> None:
    from dreamseed.cli.context import database_problem

    error = Exception(
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
        'FATAL:  password authentication failed for user "app"'
    )
    assert database_problem(error) == (
        'cannot reach the database: password authentication failed for user "app"; '
        "check the user name and password in DATABASE_URL, then retry."
    )


def test_serve_on_a_port_in_use_gives_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", CLOSED_PORT_URL)  # never reached: the port is checked first
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke("serve", "--port", str(port))
    assert_clean_failure(result, f"port {port} on 127.0.0.1 is already in use", "--port")


def test_serve_on_an_address_of_another_machine_gives_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", CLOSED_PORT_URL)
    assert_clean_failure(
        invoke("serve", "--host", "203.0.113.7", "--port", "8000"), "cannot listen on 203.0.113.7"
    )


@pytest.mark.parametrize(("variable", "value"), [("KPI_LOOKBACK_DAYS", "abc"), ("REPORT_LANG", "fr")])
@pytest.mark.parametrize(
    "command",
    [
        ["config"],
        ["db", "status"],
        ["db", "url"],
        ["runs"],
        ["serve", "--port", "0"],
        ["run", "all"],
        ["run", "generate-weekly-report"],
        ["backfill", "--from", "2026-01-01", "--to", "2026-01-02"],
        ["irt", "export-responses", "--out", "{tmp}/x.csv"],
    ],
)
def test_a_bad_setting_is_one_line_on_every_command_path(
    command: list[str], variable: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    result = invoke(*(part.replace("{tmp}", str(tmp_path)) for part in command))
    assert_clean_failure(result, "invalid settings in the environment", variable, "fix or unset")


def test_synth_into_a_path_it_cannot_create_is_one_line(tmp_path: Path) -> None:
    blocker = write(tmp_path / "file", "not a directory")
    result = invoke("synth", "--students", "5", "--weeks", "1", "--out", str(blocker / "out"))
    assert_clean_failure(result, "cannot write to", "choose another --out")


def test_the_cronjob_entry_point_refuses_a_future_date_too() -> None:
    """`python -m dreamseed.jobs.<job>` (what the CronJobs call) shares the job command's check."""
    result = subprocess.run(
        [sys.executable, "-m", "dreamseed.jobs.compute_daily_kpis", "--date", "2099-01-01"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "2099-01-01 is in the future" in result.stderr
    assert "Traceback" not in result.stderr
