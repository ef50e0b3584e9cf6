"""The IRT core is pure: it imports numpy, scipy, the standard library and itself, nothing else."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import dreamseed.irt

ALLOWED_THIRD_PARTY = {"numpy", "scipy"}
FORBIDDEN_STDLIB = {"os", "socket", "subprocess", "time", "datetime", "urllib", "http", "sqlite3", "random"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_modules_import_only_numpy_scipy_and_the_standard_library() -> None:
    package = Path(dreamseed.irt.__file__).parent
    for module in sorted(package.glob("*.py")):
        for root in imported_roots(module):
            if root in {"__future__", "dreamseed"}:
                continue
            assert root in ALLOWED_THIRD_PARTY or root in sys.stdlib_module_names, f"{module.name}: {root}"
            assert root not in FORBIDDEN_STDLIB, f"{module.name} imports {root} (clock, OS or network)"


def test_core_modules_import_nothing_from_the_shell() -> None:
    package = Path(dreamseed.irt.__file__).parent
    for module in sorted(package.glob("*.py")):
        text = module.read_text("utf-8")
        for shell in (
            "dreamseed.storage",
            "dreamseed.api",
            "dreamseed.jobs",
            "dreamseed.cli",
            "dreamseed.settings",
        ):
            assert shell not in text, f"{module.name} mentions {shell}"
