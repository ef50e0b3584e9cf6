"""`dreamseed evaluate`: replay the pipeline on a synthetic platform and score P and S against the truth."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dreamseed.cli.context import UserError, friendly_errors, load_settings
from dreamseed.cli.options import end_date_option, out_option, seed_option, students_option, weeks_option
from dreamseed.cli.progress import staged_progress

if TYPE_CHECKING:
    from dreamseed.evaluation.summary import EvaluationResult
    from dreamseed.runtime.replay import Progress, ReplayOutcome
    from dreamseed.settings import Settings


@click.command()
@weeks_option(default=12, minimum=4, maximum=52)
@students_option(default=2000, minimum=50)
@seed_option(default=2026)
@end_date_option(period="the synthetic period")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Evaluate this `dreamseed synth` output instead of synthesising (--weeks/--students/--seed ignored).",
)
@out_option(
    kind="directory",
    required=False,
    help="Directory for report.md, the SVG plots, metrics.json and predictions.csv "
    "[default: DREAMSEED_HOME/evaluation].",
)
@click.option(
    "--scratch-db",
    default="dreamseed_eval",
    show_default=True,
    help="Scratch database on the main database's server; dropped and recreated (never the main one).",
)
@click.option("--keep-db", is_flag=True, help="Keep the scratch database afterwards (to inspect it).")
@click.option(
    "--calibrate-every",
    type=click.IntRange(min=1, max=7),
    default=7,
    show_default=True,
    help="Days between mirt-calibrate runs in the replay (7: once per weekly cut-off).",
)
@friendly_errors
def evaluate(
    weeks: int,
    students: int,
    seed: int,
    end_date: dt.datetime | None,
    data: Path | None,
    out: Path | None,
    scratch_db: str,
    keep_db: bool,
    calibrate_every: int,
) -> None:
    """Measure how far P and S can be trusted, on a synthetic platform with known outcomes.

    Synthesises a platform (or reads --data), loads it into a scratch database, replays the pipeline
    at every Sunday (mirt-calibrate when available, compute-daily-kpis, detect-inactivity: each job
    sees only data up to that day), trains the learned churn model on the early weeks and scores, on
    the held-out later weeks, S against "no activity in the next 14 days" and P against "reached the
    goal by its target date": ROC-AUC, PR-AUC, Brier, log loss, calibration slope and decile
    reliability tables. Writes a Markdown report with SVG reliability diagrams. The main database
    is not touched. Exit status 0 when the evaluation ran (whatever the figures), 1 on an error.
    """
    settings = load_settings()
    target = out or settings.dreamseed_home / "evaluation"
    command = (
        "dreamseed evaluate " + shlex.join(sys.argv[2:])
        if sys.argv[1:2] == ["evaluate"]
        else "dreamseed evaluate"
    )
    with _platform_dir(data, students, weeks, seed, end_date) as data_dir, staged_progress() as progress:
        outcome = _run(settings, data_dir, scratch_db, keep_db, calibrate_every, progress)
    result = _result(outcome, data_dir if data else None, students, weeks, seed, calibrate_every)
    _write_outputs(target, outcome, result, command)
    _print_summary(result, target)


@contextmanager
def _platform_dir(
    data: Path | None, students: int, weeks: int, seed: int, end_date: dt.datetime | None
) -> Iterator[Path]:
    if data is not None:
        if not (data / "truth" / "meta.json").exists():
            raise UserError(f"{data} is not a `dreamseed synth` output (no truth/meta.json)")
        yield data
        return
    from dreamseed.synth import SynthConfig, generate_platform, write_platform

    last_day = end_date.date() if end_date else dt.date.today() - dt.timedelta(days=1)
    config = SynthConfig(students=students, weeks=weeks, seed=seed, end_date=last_day)
    with tempfile.TemporaryDirectory(prefix="dreamseed-eval-") as directory:
        write_platform(generate_platform(config), Path(directory))
        yield Path(directory)


def _run(
    settings: Settings,
    data_dir: Path,
    scratch_db: str,
    keep_db: bool,
    calibrate_every: int,
    progress: Progress,
) -> ReplayOutcome:
    from dreamseed.runtime import replay
    from dreamseed.storage.evaluation import ScratchDatabaseError

    try:
        progress("Loading the platform into the scratch database", 0, 1)
        engine = replay.scratch_engine(settings, scratch_db)
    except ScratchDatabaseError as error:
        raise UserError(str(error)) from None
    try:
        replay.load_platform(engine, data_dir)
        progress("Loading the platform into the scratch database", 1, 1)
        return replay.evaluate_replay(settings, engine, data_dir, calibrate_every, progress)
    except ValueError as error:
        raise UserError(str(error)) from None
    finally:
        engine.dispose()
        if not keep_db:
            replay.drop_scratch(settings, scratch_db)


def _result(
    outcome: ReplayOutcome, data: Path | None, students: int, weeks: int, seed: int, calibrate_every: int
) -> EvaluationResult:
    from dreamseed.evaluation.selection import holdout_split
    from dreamseed.evaluation.summary import evaluation_result

    forecasts = outcome.forecasts
    labelled = sorted(set(forecasts.loc[forecasts["no_activity"].notna(), "cutoff"]))
    split = outcome.trained.split if outcome.trained else holdout_split(labelled)
    source = (
        f"`dreamseed synth` output {data}"
        if data
        else f"synthesised: {students} students, {weeks} weeks, seed {seed}"
    )
    setup = (
        ("platform", source),
        ("period", f"{outcome.start_date} to {outcome.end_date}"),
        ("cut-offs (Sundays)", f"{len(outcome.cutoffs)}: {outcome.cutoffs[0]} … {outcome.cutoffs[-1]}"),
        ("churn model trained on", ", ".join(d.isoformat() for d in split.train_days) or "–"),
        ("held-out weeks", ", ".join(d.isoformat() for d in split.holdout_days) or "–"),
        (
            "jobs replayed",
            (f"mirt-calibrate (every {calibrate_every} days), " if outcome.calibration else "")
            + "compute-daily-kpis, detect-inactivity",
        ),
    )
    notes = outcome.notes
    if not outcome.calibration:
        notes = (*notes, "mirt-calibrate is not available: no θ history, so P (both forms) is null.")
    comparison = outcome.trained.comparison if outcome.trained else None
    label = f"churn:v{outcome.model_version}" if outcome.model_version else None
    return evaluation_result(forecasts, split.holdout_days, comparison, label, setup, notes)


def _write_outputs(target: Path, outcome: ReplayOutcome, result: EvaluationResult, command: str) -> None:
    from dreamseed.evaluation.report import render_report
    from dreamseed.evaluation.svg import reliability_svg

    target.mkdir(parents=True, exist_ok=True)
    plots = (
        ("S against no activity in the next 14 days (held-out weeks)", "reliability-s.svg", result.churn[:2]),
        ("P against reaching the goal (open goals with both forms)", "reliability-p.svg", result.goal[:2]),
    )
    for caption, name, assessments in plots:
        series = [(a.forecast, a.reliability) for a in assessments]
        (target / name).write_text(reliability_svg(series, caption), "utf-8")
    report = render_report(result, tuple((caption, name) for caption, name, _ in plots), command)
    (target / "report.md").write_text(report, "utf-8")
    outcome.forecasts.to_csv(target / "predictions.csv", index=False)
    (target / "metrics.json").write_text(
        json.dumps(_metrics_document(result), indent=2, default=str) + "\n", "utf-8"
    )


def _metrics_document(result: EvaluationResult) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        return None if isinstance(value, float) and value != value else value

    return {
        "setup": dict(result.setup),
        "checks": [asdict(c) for c in result.checks],
        "decisions": list(result.decisions),
        "churn": [
            {
                "forecast": a.forecast,
                "population": a.population,
                **{k: plain(v) for k, v in asdict(a.scores).items()},
            }
            for a in result.churn
        ],
        "goal": [
            {
                "forecast": a.forecast,
                "population": a.population,
                **{k: plain(v) for k, v in asdict(a.scores).items()},
            }
            for a in result.goal
        ],
    }


def _print_summary(result: EvaluationResult, target: Path) -> None:
    for assessment in (*result.churn[:2], *result.goal[:2]):
        s = assessment.scores
        click.echo(
            f"{assessment.forecast:<9} {assessment.population:<28} n={s.n:<6} AUC={s.roc_auc:.3f} "
            f"Brier={s.brier:.3f} slope={s.calibration_slope:.2f}"
        )
    for check in result.checks:
        click.echo(f"goal: {check.goal}: {check.measured} ({'met' if check.met else 'NOT met'})")
    for decision in result.decisions:
        click.echo(decision)
    click.echo(f"Report: {target / 'report.md'}")
