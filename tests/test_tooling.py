"""The pre-commit hooks run the same checks as scripts/test, with the same arguments."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_pre_commit_hook_is_a_check_scripts_test_runs() -> None:
    entries = re.findall(r"^\s*entry:\s*(.+?)\s*$", (ROOT / ".pre-commit-config.yaml").read_text(), re.M)
    script_lines = {line.strip() for line in (ROOT / "scripts" / "test").read_text().splitlines()}
    checks = {line for line in script_lines if line.startswith((".venv/bin/ruff", ".venv/bin/mypy"))}
    assert len(entries) == 4
    assert set(entries) == checks
