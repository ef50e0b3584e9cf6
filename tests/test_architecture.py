"""The import contract: every package of `dreamseed` sits in a layer and imports only its own layer or
lower ones (docs/ARCHITECTURE.md draws them). The pure core also uses no I/O library and reads
neither the environment nor the clock, and no job module imports another job module.

    cli, demo → api, console, stream → jobs → runtime, remote → storage → settings → core

The check reads the sources (AST, nothing imported), so it also sees imports inside functions.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "dreamseed"
CORE_PACKAGES = ("irt", "kpis", "features", "synth", "reports", "evaluation", "ingest", "cat")
#: Lowest first; a module may import its own layer and those below it, never one above.
LAYERS: tuple[tuple[str, ...], ...] = (
    CORE_PACKAGES,
    ("settings",),
    ("storage",),
    ("runtime", "remote"),
    ("jobs",),
    ("api", "console", "stream"),
    ("cli", "demo"),
)
IO_LIBRARIES = frozenset(
    {
        "sqlalchemy",
        "psycopg",
        "psycopg2",
        "httpx",
        "boto3",
        "botocore",
        "fastapi",
        "uvicorn",
        "requests",
        "pydantic_settings",
        "socket",
        "subprocess",
        "urllib",
        "http",
        "sqlite3",
        "nats",
    }
)
#: The IRT engine is numpy and scipy over the standard library, nothing else (no frames).
IRT_THIRD_PARTY = frozenset({"numpy", "scipy"})
IRT_FORBIDDEN_STDLIB = frozenset({"os", "time", "datetime", "random"})
CLOCK_AND_ENVIRONMENT = ("os.environ", "os.getenv", "datetime.now(", "date.today(", "time.time(", "utcnow(")
#: Modules of core packages that are the package's own I/O edge, kept apart on purpose.
EDGE_MODULES = frozenset({"ingest/files.py"})


@dataclass(frozen=True)
class Violation:
    module: str
    imported: str
    reason: str

    def __str__(self) -> str:
        return f"{self.module} imports {self.imported}: {self.reason}"


def layer_of(module: str) -> int | None:
    """The layer index of a `dreamseed.<package>…` module name; None for the bare package root."""
    parts = module.split(".")
    if parts[0] != "dreamseed" or len(parts) == 1:
        return None
    for index, packages in enumerate(LAYERS):
        if parts[1] in packages:
            return index
    raise KeyError(f"{module}: package {parts[1]!r} has no layer; add it to LAYERS and ARCHITECTURE.md")


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Absolute names of everything `source` imports (relative imports resolved against `module`)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names if base.startswith("dreamseed"))
    return names


def layer_violations(module: str, source: str, is_package: bool = False) -> list[Violation]:
    """Imports of `module` that point to a higher layer."""
    own = layer_of(module)
    found = []
    for name in sorted(imported_modules(source, module, is_package)):
        if not name.startswith("dreamseed."):
            continue
        try:
            target = layer_of(name)
        except KeyError:
            continue  # `from dreamseed.x import name`: the name may be an attribute, the base is checked
        if own is not None and target is not None and target > own:
            found.append(Violation(module, name, f"layer {LAYERS[target]} is above {LAYERS[own]}"))
    return found


def sources() -> list[Path]:
    return sorted(SOURCE.rglob("*.py"))


def core_sources() -> list[Path]:
    return [
        path
        for package in CORE_PACKAGES
        for path in sorted((SOURCE / package).rglob("*.py"))
        if str(path.relative_to(SOURCE)) not in EDGE_MODULES
    ]


def test_every_package_has_a_layer() -> None:
    for path in sources():
        layer_of(module_name(path))


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(SOURCE)))
def test_no_module_imports_a_higher_layer(path: Path) -> None:
    module = module_name(path)
    found = layer_violations(module, path.read_text("utf-8"), path.name == "__init__.py")
    assert not found, "\n".join(map(str, found))


def test_the_checker_reports_an_upward_import() -> None:
    """A deliberate upward import (storage → jobs, core → storage) is reported; a downward one is not."""
    upward = "from dreamseed.jobs.compute_daily_kpis import run\nimport dreamseed.cli.main\n"
    found = layer_violations("dreamseed.storage.activity", upward)
    assert {v.imported for v in found} >= {"dreamseed.cli.main", "dreamseed.jobs.compute_daily_kpis"}
    assert layer_violations("dreamseed.kpis.weekly", "from dreamseed.storage import frames\n")
    assert layer_violations("dreamseed.runtime.x", "from ..api import deps\n")
    assert not layer_violations("dreamseed.jobs.x", "from dreamseed.runtime.runner import Job\n")
    assert not layer_violations("dreamseed.cli.x", "from dreamseed import __version__\n")


def test_an_unknown_package_must_be_given_a_layer() -> None:
    with pytest.raises(KeyError, match="has no layer"):
        layer_of("dreamseed.newthing.module")


@pytest.mark.parametrize("path", core_sources(), ids=lambda p: str(p.relative_to(SOURCE)))
def test_the_core_uses_no_io_library_environment_or_clock(path: Path) -> None:
    source = path.read_text("utf-8")
    roots = {name.split(".")[0] for name in imported_modules(source, module_name(path))}
    assert not roots & IO_LIBRARIES, f"{path.relative_to(SOURCE)} imports {roots & IO_LIBRARIES}"
    assert not [needle for needle in CLOCK_AND_ENVIRONMENT if needle in source]


@pytest.mark.parametrize("path", sorted((SOURCE / "irt").glob("*.py")), ids=lambda p: p.name)
def test_the_irt_engine_is_numpy_scipy_and_the_standard_library(path: Path) -> None:
    for name in imported_modules(path.read_text("utf-8"), module_name(path)):
        root = name.split(".")[0]
        if root in {"__future__", "dreamseed", ""}:
            continue
        assert root in IRT_THIRD_PARTY or root in sys.stdlib_module_names, f"{path.name}: {root}"
        assert root not in IRT_FORBIDDEN_STDLIB, f"{path.name} imports {root} (clock, OS or randomness)"


def test_the_edge_allow_list_names_files_that_exist() -> None:
    assert all((SOURCE / edge).is_file() for edge in EDGE_MODULES)


def test_jobs_holds_only_jobs_and_no_job_imports_another() -> None:
    jobs = sorted(p for p in (SOURCE / "jobs").glob("*.py") if p.name != "__init__.py")
    names = {f"dreamseed.jobs.{p.stem}" for p in jobs}
    for path in jobs:
        source = path.read_text("utf-8")
        assert "\nJOB = Job(" in source, f"{path.name} is not a job module (no JOB = Job(...))"
        imported = imported_modules(source, module_name(path))
        siblings = {name for name in imported if ".".join(name.split(".")[:3]) in names - {module_name(path)}}
        assert not siblings, f"{path.name} imports the job modules {sorted(siblings)}"


def test_the_kpi_core_exports_exactly_all() -> None:
    import dreamseed.kpis

    sources_ = sorted(Path(dreamseed.kpis.__file__).parent.glob("*.py"))
    exported = {name for name in dir(dreamseed.kpis) if not name.startswith("_")}
    public = set(dreamseed.kpis.__all__)
    assert exported - ({p.stem for p in sources_} - public) == public
