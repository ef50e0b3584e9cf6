"""Small commands: config masks secrets, db url/status, bad settings give a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dreamseed.cli.main import cli


def test_config_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg2://app:s3cret@db.internal:5432/seedtest")
    monkeypatch.setenv("R_IRT_INTERNAL_TOKEN", "tok-123")
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 0
    assert "s3cret" not in result.output
    assert "tok-123" not in result.output
    assert "postgresql+psycopg2://app:***@db.internal:5432/seedtest" in result.output
    assert "MIRT_MODEL" in result.output


def test_invalid_setting_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIRT_MODEL", "4PL")
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 1
    assert "invalid settings" in result.output
    assert "mirt_model" in result.output.lower()


def test_non_postgres_database_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///x.db")
    result = CliRunner().invoke(cli, ["db", "url"])
    assert result.exit_code == 1
    assert "must be a PostgreSQL URL" in result.output


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg", "postgresql+psycopg2"])
def test_db_url_accepts_every_postgres_form(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", cli_env["DATABASE_URL"].replace("postgresql", scheme, 1))
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    url = CliRunner().invoke(cli, ["db", "url"]).output.strip()
    assert url.startswith("postgresql://")


def test_unreachable_database_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    result = CliRunner().invoke(cli, ["runs"])
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output
    assert "DATABASE_URL" in result.output


def test_config_shows_help_provenance_and_effective_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REPORT_DIR", raising=False)
    monkeypatch.setenv("DREAMSEED_HOME", str(tmp_path))
    monkeypatch.setenv("KPI_LOOKBACK_DAYS", "21")
    output = CliRunner().invoke(cli, ["config"]).output
    lines = output.splitlines()
    assert f"DREAMSEED_HOME = {tmp_path} (from the environment)" in lines
    assert "KPI_LOOKBACK_DAYS = 21 (from the environment)" in lines
    assert "MIRT_MODEL = 2PL (default)" in lines
    report_dir = next(line for line in lines if line.startswith("REPORT_DIR = "))
    assert f"{tmp_path} (default: DREAMSEED_HOME; reports go to {tmp_path / 'reports'})" in report_dir
    assert f"unset (default: the embedded server, data in {tmp_path / 'pgdata'})" in output
    help_line = lines[lines.index("MIRT_MODEL = 2PL (default)") + 1]
    assert help_line.strip() == "mirt-calibrate: IRT model (1PL, 2PL or 3PL)."
