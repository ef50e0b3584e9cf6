"""dreamseed.kpis is pure core: no shell packages, settings, environment or clock."""

from __future__ import annotations

import ast
from pathlib import Path

import dreamseed.kpis

SOURCES = sorted(Path(dreamseed.kpis.__file__).parent.glob("*.py"))
FORBIDDEN_MODULES = (
    "dreamseed.storage",
    "dreamseed.api",
    "dreamseed.jobs",
    "dreamseed.cli",
    "dreamseed.settings",
)
FORBIDDEN_MODULE_NAMES = {"os", "time", "sqlalchemy", "psycopg", "pydantic_settings"}
FORBIDDEN_CALLS = {"now", "today", "utcnow", "getenv"}


def _imports(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_kpis_import_nothing_from_the_shell():
    assert SOURCES
    for source in SOURCES:
        for name in _imports(ast.parse(source.read_text())):
            assert not name.startswith(FORBIDDEN_MODULES), (source.name, name)
            assert name.split(".")[0] not in FORBIDDEN_MODULE_NAMES, (source.name, name)


def test_kpis_read_no_clock_or_environment():
    for source in SOURCES:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Attribute):
                assert node.attr not in FORBIDDEN_CALLS, (source.name, node.attr)


def test_the_public_api_is_exactly_all():
    exported = {name for name in dir(dreamseed.kpis) if not name.startswith("_")}
    public = set(dreamseed.kpis.__all__)
    submodules = {p.stem for p in SOURCES} - public
    assert exported - submodules == public
