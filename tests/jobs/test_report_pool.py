"""Rendering and storing many reports: in this process or a spawn pool; giving up on a dead store."""

from __future__ import annotations

from pathlib import Path

import pytest

from dreamseed.reports import sample_report_data
from dreamseed.runtime.report_pool import NOT_ATTEMPTED, RenderSettings, chunk_size, render_and_store
from dreamseed.storage.objects import LocalDirectoryStore


def broken_store(tmp_path: Path) -> LocalDirectoryStore:
    """A store whose every write fails: its root lies under a regular file."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    return LocalDirectoryStore(blocker / "reports")


def test_chunks_balance_the_workers_and_stay_small() -> None:
    assert chunk_size(10, 2) == 1
    assert chunk_size(1000, 2) == 25
    assert chunk_size(100_000, 4) == 25


def test_in_process_rendering_gives_up_after_failures_in_a_row(tmp_path: Path) -> None:
    reports = [sample_report_data(f"u{n}", seed=n) for n in range(6)]
    settings = RenderSettings(broken_store(tmp_path), ("html",), upload_attempts=2, first_backoff_s=0.0)
    steps: list[int] = []
    outcomes = render_and_store(
        reports, len(reports), settings, workers=1, advance=steps.append, give_up_after=3
    )
    assert [o.user_id for o in outcomes] == [f"u{n}" for n in range(6)]
    assert all("failed after 2 attempts" in o.errors[0] for o in outcomes[:3])
    assert all(o.errors[0].startswith(NOT_ATTEMPTED) for o in outcomes[3:])
    assert sum(steps) == 6


@pytest.mark.slow
def test_a_pool_stops_submitting_when_the_store_is_down(tmp_path: Path) -> None:
    reports = [sample_report_data(f"u{n:02d}", seed=n) for n in range(60)]
    settings = RenderSettings(broken_store(tmp_path), ("html",), upload_attempts=1, first_backoff_s=0.0)
    outcomes = render_and_store(reports, len(reports), settings, workers=2, give_up_after=4)
    assert sorted(o.user_id for o in outcomes) == [f"u{n:02d}" for n in range(60)]
    assert not any(o.ok for o in outcomes)
    skipped = [o for o in outcomes if o.errors[0].startswith(NOT_ATTEMPTED)]
    assert len(skipped) >= 30


@pytest.mark.slow
def test_a_pool_renders_and_stores_every_report(tmp_path: Path) -> None:
    reports = [sample_report_data(f"u{n:02d}", seed=n, lang="en") for n in range(14)]
    settings = RenderSettings(LocalDirectoryStore(tmp_path), ("html", "pdf"))
    outcomes = render_and_store(reports, len(reports), settings, workers=2)
    assert sorted(o.user_id for o in outcomes) == [f"u{n:02d}" for n in range(14)]
    assert all(o.ok and [a.format for a in o.artifacts] == ["html", "pdf"] for o in outcomes)
    pdf = next(a for a in outcomes[0].artifacts if a.format == "pdf")
    assert Path(pdf.stored.url).read_bytes().startswith(b"%PDF-")
