"""Weekly report rendering throughput: HTML, PDF and both, one process vs a process pool, same run.

    python -m bench.reports [--students 1000] [--workers 2] [--lang ko|en]

Builds --students synthetic reports (`sample_report_data`, 8-week θ history, 600-item bank,
3–5 topics), then times in this process (one core, warmed-up `ReportRenderer`): HTML only, PDF
only, and both from one view; then both formats on a `multiprocessing` pool of --workers
processes (one renderer per worker, created in the initializer and warmed up before timing;
workers return sizes, as the job's workers store their own files). Prints reports/s and the
ratio of the pool to the single-process baseline.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from collections.abc import Callable, Sequence

from bench._support import machine, markdown_table

from dreamseed.reports import ReportData, ReportRenderer, sample_report_data

GOAL_REPORTS_PER_SECOND = 50.0
_worker_renderer: ReportRenderer | None = None


def start_worker() -> None:
    """Pool initializer: one renderer per worker process, fonts and template loaded now."""
    global _worker_renderer
    _worker_renderer = ReportRenderer()
    _worker_renderer.warm_up()


def render_both_sizes(data: ReportData) -> int:
    """Render HTML and PDF in a worker; returns the bytes produced."""
    assert _worker_renderer is not None
    report = _worker_renderer.render(data)
    assert report.html is not None and report.pdf is not None
    return len(report.html.encode()) + len(report.pdf)


def rate(function: Callable[[ReportData], object], reports: Sequence[ReportData]) -> float:
    """Reports per second of ``function`` over ``reports`` in this process."""
    started = time.perf_counter()
    for data in reports:
        function(data)
    return len(reports) / (time.perf_counter() - started)


def pool_rate(reports: Sequence[ReportData], workers: int) -> tuple[float, float, int]:
    """(steady reports/s, reports/s including pool start-up, total bytes) for both formats."""
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=start_worker) as pool:
        pool.map(render_both_sizes, reports[:workers], chunksize=1)  # every worker is up
        warm = time.perf_counter()
        sizes = pool.map(render_both_sizes, reports, chunksize=max(1, len(reports) // (workers * 20)))
        finished = time.perf_counter()
    return len(reports) / (finished - warm), len(reports) / (finished - started), sum(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lang", choices=["ko", "en"], default="ko")
    args = parser.parse_args()

    reports = [sample_report_data(f"student-{i:06d}", seed=i, lang=args.lang) for i in range(args.students)]
    renderer = ReportRenderer()
    fonts = renderer.warm_up()
    renderer.render(reports[0])
    html_only = rate(renderer.render_html, reports)
    pdf_only = rate(renderer.render_pdf, reports)
    both_single = rate(renderer.render, reports)
    both_pool, with_startup, total_bytes = pool_rate(reports, args.workers)

    print(f"machine: {machine()}; {args.students} students, lang={args.lang}, fonts={fonts}")
    rows = [
        ["HTML only", "1 process", f"{html_only:.0f}", ""],
        ["PDF only", "1 process", f"{pdf_only:.1f}", ""],
        ["HTML + PDF", "1 process (baseline)", f"{both_single:.1f}", "1.00×"],
        ["HTML + PDF", f"pool of {args.workers}", f"{both_pool:.1f}", f"{both_pool / both_single:.2f}×"],
        ["HTML + PDF", f"pool of {args.workers}, incl. start-up", f"{with_startup:.1f}",
         f"{with_startup / both_single:.2f}×"],
    ]
    print(markdown_table(["formats", "processes", "reports/s", "vs baseline"], rows))
    print(f"average output: {total_bytes / args.students / 1024:.0f} KiB per student (HTML + PDF)")
    verdict = "meets" if both_pool >= GOAL_REPORTS_PER_SECOND else "misses"
    print(f"goal ≥ {GOAL_REPORTS_PER_SECOND:.0f} reports/s on {args.workers} workers: {verdict}")


if __name__ == "__main__":
    main()
