"""Docs keep up with the code: every setting and every command is documented (like sqlite-utils)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dreamseed.cli.main import SUBCOMMANDS, cli
from dreamseed.settings import Settings, env_name

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("field", list(Settings.model_fields))
def test_every_setting_is_in_the_configuration_reference(field: str) -> None:
    assert f"`{env_name(field)}`" in (ROOT / "docs" / "CONFIGURATION.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("field", list(Settings.model_fields))
def test_every_setting_has_help(field: str) -> None:
    assert (Settings.model_fields[field].description or "").strip()


@pytest.mark.parametrize("command", sorted(SUBCOMMANDS))
def test_every_command_is_in_the_readme_and_has_help(command: str) -> None:
    assert f"dreamseed {command}" in (ROOT / "README.md").read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) > 3


def test_readme_test_command_is_what_ci_runs() -> None:
    assert "scripts/test" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
