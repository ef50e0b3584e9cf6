"""A user's mistake gives one clear line and a non-zero exit, never a traceback (issue #15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner, Result

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
