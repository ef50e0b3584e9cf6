"""The pure core imports nothing from the shell (STYLE.md: pure core, imperative shell)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "dreamseed"
CORE_PACKAGES = ("irt", "kpis", "features", "synth", "reports", "evaluation", "ingest", "cat")
SHELL_MODULES = (
    "dreamseed.storage",
    "dreamseed.api",
    "dreamseed.jobs",
    "dreamseed.cli",
    "dreamseed.settings",
    "dreamseed.demo",
)
IO_LIBRARIES = (
    "sqlalchemy",
    "psycopg",
    "httpx",
    "boto3",
    "botocore",
    "fastapi",
    "uvicorn",
    "requests",
    "pydantic_settings",
    "os.environ",
)
# Modules of core packages that are the package's own I/O edge, kept apart on purpose.
EDGE_MODULES = {"reports/store.py", "ingest/files.py"}


def imported_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def core_modules() -> list[Path]:
    modules = []
    for package in CORE_PACKAGES:
        for path in sorted((SOURCE / package).rglob("*.py")):
            if str(path.relative_to(SOURCE)) not in EDGE_MODULES:
                modules.append(path)
    return modules


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: str(p.relative_to(SOURCE)))
def test_core_modules_import_no_shell_and_no_io(path: Path) -> None:
    forbidden = [
        name
        for name in imported_names(path)
        if name.startswith(SHELL_MODULES) or name.split(".")[0] in IO_LIBRARIES
    ]
    assert not forbidden, f"{path.relative_to(SOURCE)} imports {forbidden}"


def test_core_modules_do_not_read_the_environment_or_the_clock() -> None:
    offenders = []
    for path in core_modules():
        source = path.read_text(encoding="utf-8")
        for needle in ("os.environ", "os.getenv", "datetime.now(", "date.today(", "time.time("):
            if needle in source:
                offenders.append(f"{path.relative_to(SOURCE)}: {needle}")
    assert not offenders
