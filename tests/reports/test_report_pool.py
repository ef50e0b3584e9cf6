"""A process pool renders with one renderer per worker; forking after a compile fails loudly."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import textwrap

from dreamseed.reports import ReportRenderer, sample_report_data


def test_spawn_pool_with_a_pickled_renderer(renderer: ReportRenderer) -> None:
    reports = [sample_report_data(f"pool-{i}", seed=i) for i in range(4)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pdfs = pool.map(renderer.render_pdf, reports)
    assert all(pdf.startswith(b"%PDF-") for pdf in pdfs)
    assert pdfs[0] == renderer.render_pdf(reports[0])


FORK_AFTER_COMPILE = textwrap.dedent(
    """
    import multiprocessing
    from dreamseed.reports import ForkedAfterTypstError, ReportRenderer, sample_report_data

    renderer = ReportRenderer()
    renderer.render_pdf(sample_report_data())
    with multiprocessing.get_context("fork").Pool(1) as pool:
        try:
            pool.apply(renderer.render_pdf, (sample_report_data(),))
        except ForkedAfterTypstError:
            print("clear error")
    """
)


def test_fork_after_a_compile_raises_instead_of_hanging() -> None:
    result = subprocess.run(
        [sys.executable, "-c", FORK_AFTER_COMPILE], capture_output=True, text=True, timeout=60, check=True
    )
    assert "clear error" in result.stdout


FORK_AFTER_WARM_UP = textwrap.dedent(
    """
    import multiprocessing
    from dreamseed.reports import ReportRenderer, sample_report_data

    renderer = ReportRenderer()
    renderer.warm_up()  # fonts and the compiler's directory loaded, nothing compiled yet
    reports = [sample_report_data(f"fork-{i}", seed=i) for i in range(6)]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pdfs = pool.map(renderer.render_pdf, reports, chunksize=1)
    same = pdfs == [renderer.render_pdf(data) for data in reports]
    print("identical" if same else "different")
    """
)


def test_processes_forked_after_warm_up_each_render_their_own_reports() -> None:
    """A forked child gets its own compiler directory: two children never share a data file."""
    result = subprocess.run(
        [sys.executable, "-c", FORK_AFTER_WARM_UP], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "identical"
