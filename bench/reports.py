"""Weekly report rendering throughput: the current PDF path against the previous one, same run.

    python -m bench.reports [--students 1000] [--workers 2] [--lang ko|en] [--rounds 5]

Builds --students synthetic reports (`sample_report_data`, 8-week θ history, 600-item bank,
3–5 topics) and times, in this process (one core, warmed-up renderers): HTML only, PDF only and
HTML + PDF, each PDF row for the baseline and the current path. The baseline is the path before
issue 22 item 4: the template as it was (bench/reports_baseline.typ), the data through typst's
``sys_inputs`` and the charts as SVG with their text; the current path is `ReportRenderer`. The
two are timed in alternating blocks of the same reports (--rounds blocks each), so load on a
shared machine falls on both. Then both formats on a spawn pool of --workers processes, baseline
and current, one after the other (workers return sizes, as the job's workers store their own
files). Prints reports/s by wall clock and by CPU time (reports per CPU-second of the processes
doing the work; the CPU figure is the stable one on a shared machine) and the ratios.

Then (unless --no-job) the generate-weekly-report job end to end for the same number of students
on a scratch database (bench/_support.py; BENCH_DATABASE_URL to use another server): a week of
weekly_kpi rows (and the week before), 8 weeks of θ history, topic days, a 600-item bank, goals
and 30 answered items per student are written with set-based SQL, then the job runs with
--workers workers into a temporary REPORT_DIR: bulk reads, ReportData, render, store, and the
report_artifacts upsert. The bulk reads and the ReportData building are also timed on their own.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import typst
from bench._support import machine, markdown_table, scratch_database, timed
from sqlalchemy import Engine, text

from dreamseed.jobs.generate_weekly_report import read_frames
from dreamseed.reports import RenderedReport, ReportData, ReportRenderer, sample_report_data
from dreamseed.reports.html import html_from_view
from dreamseed.reports.inputs import report_data_by_user
from dreamseed.reports.pdf import bundled_font_dirs
from dreamseed.reports.sample import sample_item_bank
from dreamseed.reports.view import report_view
from dreamseed.runtime.registry import load_job
from dreamseed.runtime.runner import EXIT_OK, execute
from dreamseed.settings import Settings
from dreamseed.storage.reports import ReportPopulation

GOAL_REPORTS_PER_SECOND = 100.0
JOB_WEEK = date(2026, 11, 16)
BASELINE_TEMPLATE = Path(__file__).with_name("reports_baseline.typ")


class BaselineRenderer(ReportRenderer):
    """The PDF path before issue 22 item 4: the previous template, data through ``sys_inputs``,
    charts as SVG with their text; its own compiler (fonts loaded once, as before)."""

    def __init__(self) -> None:
        super().__init__()
        self.template = BASELINE_TEMPLATE.read_bytes()
        self.compiler = typst.Compiler(font_paths=list(bundled_font_dirs()))

    def baseline_pdf(self, data: ReportData) -> bytes:
        view = report_view(data)
        setup = self.pdf_renderer.setup()
        document = dataclasses.asdict(view)
        document["labels"] = dict(view.labels)
        document["fonts"] = setup.fonts.families()
        inputs = {"data": json.dumps(document, ensure_ascii=False)}
        pdf = self.compiler.compile(input=self.template, format="pdf", sys_inputs=inputs)
        assert isinstance(pdf, bytes)
        return pdf

    def render(self, data: ReportData, html: bool = True, pdf: bool = True) -> RenderedReport:
        """Both formats the baseline way (the HTML path is unchanged)."""
        return RenderedReport(html_from_view(report_view(data)), self.baseline_pdf(data))


_worker_renderer: ReportRenderer | None = None


def start_worker(baseline: bool) -> None:
    """Pool initializer: one renderer per worker process, fonts and template loaded now."""
    global _worker_renderer
    _worker_renderer = BaselineRenderer() if baseline else ReportRenderer()
    _worker_renderer.warm_up()


def render_both_sizes(data: ReportData) -> tuple[int, float]:
    """Render HTML and PDF in a worker; returns (bytes produced, CPU seconds spent)."""
    assert _worker_renderer is not None
    cpu = time.process_time()
    report = _worker_renderer.render(data)
    assert report.html is not None
    assert report.pdf is not None
    return len(report.html.encode()) + len(report.pdf), time.process_time() - cpu


@dataclass(frozen=True)
class Rate:
    """Reports per wall-clock second and per CPU second (times the number of worker processes)."""

    wall: float
    cpu: float


def alternating_rates(
    functions: dict[str, Callable[[ReportData], object]], reports: Sequence[ReportData], rounds: int
) -> dict[str, Rate]:
    """Reports per second of each function over ``reports`` in this process, the reports cut into
    ``rounds`` blocks and every function timed on a block before the next block."""
    wall = dict.fromkeys(functions, 0.0)
    cpu = dict.fromkeys(functions, 0.0)
    size = max(1, len(reports) // rounds)
    for start in range(0, len(reports), size):
        block = reports[start : start + size]
        for name, function in functions.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            for data in block:
                function(data)
            wall[name] += time.perf_counter() - started
            cpu[name] += time.process_time() - cpu_started
    return {name: Rate(len(reports) / wall[name], len(reports) / cpu[name]) for name in functions}


def pool_rate(reports: Sequence[ReportData], workers: int, baseline: bool) -> tuple[Rate, float, int]:
    """(steady rate, reports/s including pool start-up, total bytes) for both formats.

    The CPU rate is ``workers`` cores' worth: workers / mean CPU seconds per report.
    """
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=start_worker, initargs=(baseline,)) as pool:
        pool.map(render_both_sizes, reports[:workers], chunksize=1)  # every worker is up
        warm = time.perf_counter()
        results = pool.map(render_both_sizes, reports, chunksize=max(1, len(reports) // (workers * 20)))
        finished = time.perf_counter()
        pool.close()  # workers exit normally (and remove their compiler directories), not terminated
        pool.join()
    cpu_per_report = sum(cpu for _, cpu in results) / len(results)
    steady = Rate(len(reports) / (finished - warm), workers / cpu_per_report)
    return steady, len(reports) / (finished - started), sum(size for size, _ in results)


def ratio(new: Rate, old: Rate) -> str:
    return f"{new.wall / old.wall:.2f}× / {new.cpu / old.cpu:.2f}×"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lang", choices=["ko", "en"], default="ko")
    parser.add_argument("--rounds", type=int, default=5, help="Alternating blocks per single-process row.")
    parser.add_argument("--no-job", dest="job", action="store_false", help="Skip the end-to-end job timing.")
    args = parser.parse_args()

    reports = [sample_report_data(f"student-{i:06d}", seed=i, lang=args.lang) for i in range(args.students)]
    renderer = ReportRenderer()
    baseline = BaselineRenderer()
    fonts = renderer.warm_up()
    renderer.render(reports[0])
    baseline.render(reports[0])
    single = alternating_rates(
        {
            "html": renderer.render_html,
            "pdf baseline": baseline.baseline_pdf,
            "pdf": renderer.render_pdf,
            "both baseline": baseline.render,
            "both": renderer.render,
        },
        reports,
        args.rounds,
    )
    pool_base, base_startup, base_bytes = pool_rate(reports, args.workers, baseline=True)
    pool_new, new_startup, new_bytes = pool_rate(reports, args.workers, baseline=False)

    print(f"machine: {machine()}; {args.students} students, lang={args.lang}, fonts={fonts}")
    base = single["both baseline"]

    def row(formats: str, path: str, processes: str, rate: Rate, versus: str = "") -> list[str]:
        return [formats, path, processes, f"{rate.wall:.1f}", f"{rate.cpu:.1f}", versus]

    rows = [
        row("HTML only", "(unchanged)", "1 process", single["html"]),
        row("PDF only", "baseline", "1 process", single["pdf baseline"]),
        row("PDF only", "current", "1 process", single["pdf"], ratio(single["pdf"], single["pdf baseline"])),
        row("HTML + PDF", "baseline", "1 process", base, "1.00× / 1.00×"),
        row("HTML + PDF", "current", "1 process", single["both"], ratio(single["both"], base)),
        row("HTML + PDF", "baseline", f"pool of {args.workers}", pool_base, ratio(pool_base, base)),
        row("HTML + PDF", "current", f"pool of {args.workers}", pool_new, ratio(pool_new, base)),
        [
            "HTML + PDF",
            "baseline / current",
            f"pool of {args.workers}, incl. start-up",
            f"{base_startup:.1f} / {new_startup:.1f}",
            "",
            "",
        ],
    ]
    headers = [
        "formats",
        "path",
        "processes",
        "reports/s (wall)",
        "reports/s (CPU)",
        "vs baseline (wall / CPU)",
    ]
    print(markdown_table(headers, rows))
    print(f"load average after the render timings: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"average output: {new_bytes / args.students / 1024:.0f} KiB per student (HTML + PDF; "
        f"baseline {base_bytes / args.students / 1024:.0f} KiB)"
    )
    for label, value in [("wall clock", pool_new.wall), ("CPU time", pool_new.cpu)]:
        verdict = "meets" if value >= GOAL_REPORTS_PER_SECOND else "misses"
        print(
            f"goal ≥ {GOAL_REPORTS_PER_SECOND:.0f} reports/s on {args.workers} workers by {label}: {verdict}"
        )
    if args.job:
        time_job(args.students, args.workers, args.lang)


WEEK_SQL = (
    """INSERT INTO mirt_item_params (item_id, model, params)
       SELECT (100 + n)::text, '2PL', jsonb_build_object('a', 1.0, 'b', b, 'c', 0)
       FROM unnest(CAST(:bank AS float8[])) WITH ORDINALITY AS bank(b, n)""",
    """INSERT INTO weekly_kpi (user_id, week_start, kpis)
       SELECT 'student-' || lpad(u::text, 6, '0'), w, jsonb_build_object(
           'I_t', round((random() * 0.6 - 0.3)::numeric, 3), 'E_t', round(random()::numeric, 3),
           'R_t', round(random()::numeric, 3), 'A_t', round(random()::numeric, 3),
           'P', round(random()::numeric, 3), 'S', round(random()::numeric, 3), 'P_target', 1.0)
       FROM generate_series(0, :students - 1) u, unnest(ARRAY[:week, :week - 7]) w""",
    """INSERT INTO mirt_ability_history (user_id, run_id, theta, se, fitted_at)
       SELECT 'student-' || lpad(u::text, 6, '0'), 'run-' || k, (u % 7) * 0.2 - 0.6 + 0.05 * k, 0.45 - 0.03 * k,
              (:week - 7 * (7 - k) + 6) + time '22:00'
       FROM generate_series(0, :students - 1) u, generate_series(0, 7) k""",
    """INSERT INTO features_topic_daily (user_id, topic_id, date, attempts, correct, theta_estimate, theta_sd)
       SELECT 'student-' || lpad(u::text, 6, '0'), 'topic-' || t, :week + d, 3 + (u + t + d) % 5,
              (u + t + d) % 4, ((u + t) % 9) * 0.2 - 0.8, 0.35
       FROM generate_series(0, :students - 1) u, generate_series(1, 4) t, generate_series(0, 6) d
       WHERE (u + d) % 3 <> 0""",
    """INSERT INTO interest_goal (user_id, topic_id, target_level, priority, target_date)
       SELECT 'student-' || lpad(u::text, 6, '0'), 'topic-1', 1.0, 1, :week + 60
       FROM generate_series(0, :students - 1) u WHERE u % 10 < 7""",
    """INSERT INTO attempt_fact (exam_result_id, question_index, question_key, user_id, item_id,
                                 correct, response_time_ms, hints, completed_at, session_id, topic_id, exam_id)
       SELECT md5(u || '-' || d)::uuid, q, NULL,
              'student-' || lpad(u::text, 6, '0'), 100 + (u * 7 + q * 13) % 600, q % 3 <> 0, 20000, 0,
              (:week + d) + time '10:00', u || '-' || d, 'topic-' || (1 + q % 4), 1
       FROM generate_series(0, :students - 1) u, generate_series(0, 2) d, generate_series(1, 10) q""",
)


def write_week(engine: Engine, students: int) -> None:
    """A week of what the report reads, for `students` synthetic users, with set-based SQL."""
    params = {"students": students, "week": JOB_WEEK, "bank": list(sample_item_bank())}
    with engine.begin() as connection:
        connection.execute(text("SELECT setseed(0.42)"))
        for statement in WEEK_SQL:
            connection.execute(text(statement), params)
        connection.execute(text("ANALYZE"))


def time_job(students: int, workers: int, lang: str) -> None:
    """generate-weekly-report end to end on a scratch database; prints a table of timings."""
    timings: dict[str, float] = {}
    with scratch_database() as engine, tempfile.TemporaryDirectory(prefix="dsreports-") as home:
        with timed(timings, "write"):
            write_week(engine, students)
        url = engine.url.render_as_string(hide_password=False)
        settings = Settings(database_url=url, dreamseed_home=Path(home), report_lang=lang, s3_bucket=None)
        with timed(timings, "reads"), engine.connect() as connection:
            frames = read_frames(connection, ReportPopulation(JOB_WEEK))
        with timed(timings, "build"):
            built = list(report_data_by_user(frames, datetime.now(UTC), settings.report_lang))
        assert len(built) == students
        cpu_before = os.times()
        with timed(timings, "job"):
            code = execute(
                load_job("generate-weekly-report"),
                settings,
                engine,
                run_date=JOB_WEEK + timedelta(days=6),
                options={"workers": workers},
            )
        assert code == EXIT_OK, f"the job exited with {code}"
        cpu_after = os.times()  # the pool's workers are reaped by now, so children's times count
        job_cpu = sum(cpu_after[:4]) - sum(cpu_before[:4])
        parent_cpu = sum(cpu_after[:2]) - sum(cpu_before[:2])
        files = sum(1 for _ in Path(home, "reports").rglob("report.*"))
    rows = [
        ["write the week (set-based SQL)", f"{timings['write']:.1f}", ""],
        ["bulk reads (6 statements)", f"{timings['reads']:.2f}", ""],
        ["ReportData for every student", f"{timings['build']:.2f}", ""],
        [f"job end to end, --workers {workers}", f"{timings['job']:.1f}", f"{students / timings['job']:.1f}"],
        [
            f"job CPU time (job + workers; {workers} cores' worth of reports/s)",
            f"{job_cpu:.1f}",
            f"{workers * students / job_cpu:.1f}",
        ],
        ["  of which the job's own process (reads, data, pool, records)", f"{parent_cpu:.1f}", ""],
        ["  of which the workers (start-up, render, store)", f"{job_cpu - parent_cpu:.1f}", ""],
    ]
    print(
        f"\ngenerate-weekly-report, {students} students, HTML + PDF into a local directory ({files} files):"
    )
    print(markdown_table(["step", "seconds", "reports/s"], rows))


if __name__ == "__main__":
    main()
