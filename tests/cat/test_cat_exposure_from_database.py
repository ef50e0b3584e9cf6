"""`dreamseed cat exposure --from-database`: exposure rates observed in cat_events over a window,
and a K.csv updated from them, against the real embedded PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from dreamseed.api.cat_service import exposure_parameters
from dreamseed.cli.main import cli

NOW = datetime.now(UTC)


def serve(engine: Engine, session: str, item: str, *, rejected: tuple[str, ...] = (), days_ago: float = 1,
          version: str = "v1") -> None:  # fmt: skip
    """One row of cat_events: ``item`` served in ``session`` (of user u1)."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO cat_events (user_id, session_id, item_id, position, policy, reason, theta_before, "
                "se_before, rejected, version, served_at) VALUES ('u1', :s, :i, 0, 'test', 'r', 0, 1, "
                "CAST(:rejected AS text[]), :v, :t)"
            ),
            {"s": session, "i": item, "rejected": list(rejected), "v": version,
             "t": NOW - timedelta(days=days_ago)},
        )  # fmt: skip


@pytest.fixture
def served(engine: Engine) -> None:
    """4 sessions in the window: item 1 in all, 2 in two, 3 in one and rejected (Sympson–Hetter) in
    another; outside the window or of another version: item 9."""
    for session in ("a", "b", "c", "d"):
        serve(engine, session, "1")
    serve(engine, "a", "2")
    serve(engine, "b", "2")
    serve(engine, "c", "3")
    serve(engine, "d", "4", rejected=("3",))
    serve(engine, "old", "9", days_ago=40)
    serve(engine, "other", "9", version="v0")


def test_observed_exposure_rates_and_k(
    cli_env: dict[str, str], engine: Engine, served: None, tmp_path: Path
) -> None:
    out = tmp_path / "K.csv"
    result = CliRunner().invoke(
        cli, ["cat", "exposure", "--from-database", "--r-max", "0.3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "4 adaptive sessions from " in result.output
    assert "; 4 items served" in result.output
    assert "max item exposure 100.0%; 2 items above --r-max 30%; 3 would get K < 1" in result.output
    table = pd.read_csv(out, dtype={"item_id": str})
    assert table["item_id"].tolist() == ["1", "2", "3", "4"]
    assert table["served"].tolist() == [4, 2, 1, 1]
    assert table["examined"].tolist() == [4, 2, 2, 1]
    assert table["exposure_rate"].tolist() == [1.0, 0.5, 0.25, 0.25]
    assert table["k"].tolist() == pytest.approx([0.3, 0.6, 0.6, 1.0])
    assert set(table["sessions"]) == {4}


def test_the_window_is_the_last_days(cli_env: dict[str, str], engine: Engine, served: None) -> None:
    result = CliRunner().invoke(cli, ["cat", "exposure", "--from-database", "--days", "60", "--top", "1"])
    assert result.exit_code == 0, result.output
    assert "5 adaptive sessions" in result.output  # the old session of v1 comes in; v0's does not
    assert len(result.output.strip().splitlines()) == 4  # summary, max line, header, one item


def test_no_sessions_in_the_window_is_a_clear_error(cli_env: dict[str, str], engine: Engine) -> None:
    result = CliRunner().invoke(cli, ["cat", "exposure", "--from-database"])
    assert result.exit_code == 1
    assert "no adaptive sessions in cat_events" in result.output
    assert "MIRT_VERSION=v1" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from-database", "--synthetic-items", "5"], "drop --bank/--synthetic-items"),
        (["--from-database", "--r-max", "1.5"], "--r-max must lie in (0, 1]"),
        (["--from-database", "--days", "0"], "--days"),
        (["--synthetic-items", "5"], "give --out K.csv"),
    ],
)
def test_bad_options_are_usage_errors(cli_env: dict[str, str], arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["cat", "exposure", *arguments])
    assert result.exit_code == 2
    assert message in result.output


def test_an_unreachable_database_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    monkeypatch.setenv("DREAMSEED_HOME", str(tmp_path))
    result = CliRunner().invoke(cli, ["cat", "exposure", "--from-database"])
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output
    assert "Traceback" not in result.output


def test_the_observed_k_file_is_what_the_service_reads(
    cli_env: dict[str, str], engine: Engine, served: None, tmp_path: Path
) -> None:
    out = tmp_path / "K.csv"
    result = CliRunner().invoke(
        cli, ["cat", "exposure", "--from-database", "--r-max", "0.3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    k = exposure_parameters(out, np.array(["1", "2", "3", "4", "5"], dtype=object))
    assert k.tolist() == pytest.approx([0.3, 0.6, 0.6, 1.0, 1.0])  # item 5 never examined: K = 1
