"""A student's report files are the same bytes whatever the batch they are rendered in.

Typst keeps caches between compiles in a process (layouts, shaped text, fonts) and the job renders
students in chunks on a pool, so each student's HTML and PDF must not depend on which students
came before, how many there were, in which chunk or on which worker: alone in a fresh process, in
order in one process, reversed on a pool of 2 in chunks of 1, and on a pool of 3 in chunks of 5.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dreamseed.reports import ReportData, sample_report_data
from dreamseed.runtime import report_pool
from dreamseed.runtime.report_pool import RenderSettings, render_and_store
from dreamseed.storage.objects import LocalDirectoryStore

pytestmark = pytest.mark.slow

STUDENTS = 16
ALONE = (3, 12)
"""Students also rendered each on its own in a fresh process (one Korean, one English)."""


def batch() -> list[ReportData]:
    """Korean and English reports mixed (their text and glyphs differ), more than a small run."""
    return [
        sample_report_data(f"student-{i:03d}", seed=i, lang="ko" if i % 2 else "en") for i in range(STUDENTS)
    ]


def files_of(
    tmp_path: Path, name: str, reports: list[ReportData], workers: int
) -> dict[tuple[str, str], bytes]:
    """Every stored file's bytes by (user, format) after one `render_and_store` run."""
    settings = RenderSettings(LocalDirectoryStore(tmp_path / name), ("html", "pdf"))
    outcomes = render_and_store(reports, len(reports), settings, workers)
    assert [outcome.errors for outcome in outcomes if not outcome.ok] == []
    return {
        (artifact.user_id, artifact.format): Path(artifact.stored.url).read_bytes()
        for outcome in outcomes
        for artifact in outcome.artifacts
    }


ALONE_SCRIPT = textwrap.dedent(
    """
    import sys
    from dreamseed.reports import ReportRenderer, sample_report_data

    index = int(sys.argv[1])
    data = sample_report_data(f"student-{index:03d}", seed=index, lang="ko" if index % 2 else "en")
    report = ReportRenderer().render(data)
    sys.stdout.buffer.write(report.pdf + b"\\n--html--\\n" + report.html.encode())
    """
)


def alone(index: int) -> tuple[bytes, bytes]:
    """(pdf, html) of one student rendered in a fresh process: no other report before it."""
    result = subprocess.run(
        [sys.executable, "-c", ALONE_SCRIPT, str(index)], capture_output=True, timeout=120, check=True
    )
    pdf, html = result.stdout.split(b"\n--html--\n")
    return pdf, html


def test_each_students_files_are_identical_whatever_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = batch()
    in_order = files_of(tmp_path, "one-process", reports, workers=1)
    assert len(in_order) == 2 * STUDENTS
    assert len(set(in_order.values())) == 2 * STUDENTS  # every student's files differ from the others'
    reversed_pool = files_of(tmp_path, "pool-2", reports[::-1], workers=2)
    monkeypatch.setattr(report_pool, "chunk_size", lambda _total, _workers: 5)
    chunks_of_five = files_of(tmp_path, "pool-3", reports, workers=3)
    assert reversed_pool == in_order
    assert chunks_of_five == in_order
    for index in ALONE:
        pdf, html = alone(index)
        assert pdf == in_order[(f"student-{index:03d}", "pdf")]
        assert html == in_order[(f"student-{index:03d}", "html")]
