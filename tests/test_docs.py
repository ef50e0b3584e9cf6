"""Docs keep up with the code: every setting and every command is documented (like sqlite-utils)."""

from __future__ import annotations

import re
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


RELIABILITY_SOURCES = [
    *sorted((ROOT / "tests" / "faults").glob("test_*.py")),
    ROOT / "tests" / "api" / "test_hardening.py",
    ROOT / "tests" / "stream" / "test_stream_faults.py",
    ROOT / "tests" / "stream" / "test_readiness.py",
    ROOT / "tests" / "stream" / "test_scale_out.py",
]


@pytest.mark.parametrize("path", RELIABILITY_SOURCES, ids=lambda p: p.name)
def test_reliability_page_shows_every_fault_and_hardening_test(path: Path) -> None:
    """docs/RELIABILITY.md is regenerated (scripts/reliability_report.py) when such a test is added."""
    page = (ROOT / "docs" / "RELIABILITY.md").read_text(encoding="utf-8")
    functions = re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    missing = [name for name in functions if f"(`{name}`)" not in page]
    assert not missing, f"run `.venv/bin/python scripts/reliability_report.py`: {missing} not on the page"


def test_reliability_page_shows_every_case_held() -> None:
    page = (ROOT / "docs" / "RELIABILITY.md").read_text(encoding="utf-8")
    held, total = map(int, re.search(r"## Evidence: (\d+) of (\d+) cases held", page).groups())  # type: ignore[union-attr]
    assert held == total
