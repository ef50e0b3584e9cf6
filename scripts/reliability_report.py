"""Regenerate docs/RELIABILITY.md from a real run of the reliability tests (nothing written by hand).

    .venv/bin/python scripts/reliability_report.py            # run the tests, then write the page
    .venv/bin/python scripts/reliability_report.py --junit F  # write the page from an earlier run

Runs the fault-injection suite, the bad-input tests of ingestion, the service and the CLI, the
fuzzers and the load test with pytest (`--junitxml`), and writes one table per group: what was
tried (the test's docstring, else its name), the case, and whether the guarantee held.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "RELIABILITY.md"

GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "Faults tried",
        "Each fault is injected for real: the job runs in its own process and is SIGKILLed at a named "
        "point (`DREAMSEED_TEST_PAUSE_AT`), the embedded PostgreSQL or SeaweedFS is stopped mid-run, a "
        "stub IRT peer answers 500 or hangs, the Pushgateway port is closed. Each test checks the "
        "database before and after, that `job_runs` tells the truth, and that a re-run repairs.",
        (
            "tests/faults/test_killed_jobs.py",
            "tests/faults/test_killed_report.py",
            "tests/faults/test_lost_object_store.py",
            "tests/faults/test_lost_services.py",
        ),
    ),
    (
        "Faults tried on the streaming path",
        "A real nats-server and PostgreSQL: the consumer SIGKILLed mid-batch, a crash between commit "
        "and ack, the broker restarted, the database refusing connections, poison and oversized events; "
        "readiness following the broker and the database; several workers on one durable consumer.",
        (
            "tests/stream/test_stream_faults.py",
            "tests/stream/test_readiness.py",
            "tests/stream/test_scale_out.py",
        ),
    ),
    (
        "Load held",
        "Concurrent clients against a real `uvicorn` server and PostgreSQL: every call answered, no "
        "row lost (speed is measured in `bench/update_theta.py`, see BENCHMARKS.md).",
        ("tests/faults/test_load_held.py",),
    ),
    (
        "Bad input: ingestion (files and the API)",
        "One bad line never aborts a file: it goes to `ingest_quarantine` with its line number and a "
        "reason while the other lines load; a file of the wrong kind is refused with one line.",
        (
            "tests/cli/test_ingest_cli.py",
            "tests/storage/test_ingest_fallback.py",
            "tests/api/test_ingest_endpoint.py",
            "tests/ingest/test_parser_fuzz.py",
        ),
    ),
    (
        "Bad input: the HTTP service",
        "Refused before the body is read (token, size), bounded JSON, text without NUL or unpaired "
        "surrogates, answers that match the schema; schemathesis over the OpenAPI document.",
        ("tests/api/test_hardening.py", "tests/api/test_schema_fuzz.py"),
    ),
    (
        "A user's mistake at the command line",
        "One clear line saying what is wrong and what to do, a non-zero exit, no traceback, nothing lost.",
        ("tests/cli/test_front_door.py", "tests/cli/test_demo_cli.py"),
    ),
)

GUARANTEES = """\
- **A bad line never aborts a file.** Every value PostgreSQL or Python could refuse is checked
  before COPY; the line goes to `ingest_quarantine` with its line number and a reason. If the
  database still refuses a batch, the batch is split until the offending rows are alone and
  quarantined. Lines in = rows loaded + rows quarantined, always (property-tested).
- **A failed or killed run leaves the previous state intact**, and the next run repairs it: every
  job writes in one transaction; a killed run's `job_runs` row is marked `abandoned` (its advisory
  lock is free) by the next run of the job and by `dreamseed runs`, and is pushed as a failed run.
- **Report files and `report_artifacts` agree**: rows are committed per chunk as files are stored;
  after an unfinished run the next one removes that week's unrecorded files. Pool workers die with
  their parent (`PR_SET_PDEATHSIG`).
- **The service refuses before it reads**: token and body size are checked from the headers (401,
  403, 413), JSON is parsed off the event loop with bounded depth and array lengths, text fields
  reject NUL and unpaired surrogates (422), an unknown `version` is 404, a θ that cannot be computed
  is a 422 with a reason.
- **A lost database is one line**: one FATAL line and exit 1, no chained traceback.
- **The demo never deletes a user's rows**: it refuses a database holding rows it did not load.
"""


@dataclass(frozen=True)
class Case:
    path: str
    function: str
    parameters: str
    outcome: str
    seconds: float


def run_tests(junit: Path) -> int:
    paths = [path for _title, _text, paths in GROUPS for path in paths]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *paths]
    print("running:", " ".join(command[2:]), flush=True)
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def cases_from(junit: Path) -> list[Case]:
    cases = []
    for testcase in ElementTree.parse(junit).iter("testcase"):
        path = testcase.get("classname", "").replace(".", "/") + ".py"
        name = testcase.get("name", "")
        function, _, parameters = name.partition("[")
        outcome = "held"
        for child, word in (("failure", "FAILED"), ("error", "ERROR"), ("skipped", "skipped")):
            if testcase.find(child) is not None:
                outcome = word
        cases.append(
            Case(path, function, parameters.removesuffix("]"), outcome, float(testcase.get("time", 0)))
        )
    return cases


def docstrings(path: str) -> dict[str, str]:
    """First sentence of each test function's docstring in ``path``."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            text = ast.get_docstring(node)
            if text:
                found[node.name] = " ".join(text.split()).split(". ")[0].rstrip(".")
    return found


def described(case: Case, notes: dict[str, dict[str, str]]) -> str:
    note = notes.setdefault(case.path, docstrings(case.path)).get(case.function)
    plain = case.function.removeprefix("test_").replace("_", " ")
    return f"{note or plain[0].upper() + plain[1:]} (`{case.function}`)"


def escaped(text: str) -> str:
    return text.replace("|", "\\|").encode("unicode_escape").decode("ascii").replace("\\\\", "\\")


def page(cases: list[Case], commit: str) -> str:
    notes: dict[str, dict[str, str]] = {}
    held = sum(case.outcome == "held" for case in cases)
    lines = [
        "# Reliability",
        "",
        "What the product guarantees when things go wrong, and the evidence: every row below is a test",
        "that ran. This page is generated: `.venv/bin/python scripts/reliability_report.py` runs the",
        "tests and rewrites it (a test in `tests/test_docs.py` fails when a fault or hardening test is",
        "missing from it).",
        "",
        "## Guarantees",
        "",
        GUARANTEES,
        f"## Evidence: {held} of {len(cases)} cases held",
        "",
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit `{commit}`.",
    ]
    for title, text, paths in GROUPS:
        group = [case for case in cases if case.path in paths]
        lines += ["", f"### {title}", "", text, "", "| tried | case | result | s |", "|---|---|---|---:|"]
        lines += [
            f"| {described(case, notes)} | {escaped(case.parameters) or '—'} | {case.outcome} | {case.seconds:.1f} |"
            for case in group
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--junit", type=Path, help="use this JUnit XML instead of running the tests")
    arguments = parser.parse_args()
    junit = arguments.junit or Path(tempfile.mkdtemp(prefix="reliability-")) / "junit.xml"
    code = 0 if arguments.junit else run_tests(junit)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    PAGE.write_text(page(cases_from(junit), commit or "unknown"), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return code


if __name__ == "__main__":
    sys.exit(main())
