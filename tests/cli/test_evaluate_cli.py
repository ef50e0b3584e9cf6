"""`dreamseed evaluate` (a tiny synthetic platform replayed in a scratch database) and `dreamseed model`."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from dreamseed.cli.evaluate import evaluate
from dreamseed.cli.model import model
from dreamseed.runtime.replay import load_platform, sunday_cutoffs
from dreamseed.synth import SynthConfig, generate_platform, write_platform

END = dt.date(2026, 11, 1)  # a Sunday


@pytest.fixture(scope="module")
def platform_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("platform")
    write_platform(generate_platform(SynthConfig(students=300, weeks=6, seed=11, end_date=END)), out)
    return out


def databases(admin_url: str) -> set[str]:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        return {row[0] for row in connection.execute("SELECT datname FROM pg_database")}


def test_sunday_cutoffs_start_a_week_in() -> None:
    assert sunday_cutoffs(dt.date(2026, 9, 21), END) == [
        dt.date(2026, 9, 27) + dt.timedelta(days=7 * k) for k in range(6)
    ]
    assert sunday_cutoffs(dt.date(2026, 10, 30), END) == []


@pytest.mark.slow
def test_evaluate_replays_the_pipeline_and_writes_the_report(
    platform_dir: Path, cli_env: dict[str, str], admin_url: str, tmp_path: Path, engine: Engine
) -> None:
    scratch = f"dreamseed_eval_test_{os.getpid()}"
    out = tmp_path / "evaluation"
    result = CliRunner().invoke(
        evaluate, ["--data", str(platform_dir), "--out", str(out), "--scratch-db", scratch]
    )
    assert result.exit_code == 0, result.output
    report = (out / "report.md").read_text("utf-8")
    for heading in (
        "## Goals",
        "## Choices",
        "## S (churn risk)",
        "## P (goal attainment)",
        "Reliability tables",
    ):
        assert heading in report
    assert "| S_v1 | held-out weeks |" in report
    metrics = json.loads((out / "metrics.json").read_text("utf-8"))
    held_out_s_v1 = metrics["churn"][1]
    assert held_out_s_v1["n"] > 100
    assert 0.5 < held_out_s_v1["roc_auc"] <= 1.0
    assert (out / "reliability-s.svg").read_text("utf-8").startswith("<svg")
    assert "user_id" in (out / "predictions.csv").read_text("utf-8").splitlines()[0]
    assert "goal: S ROC-AUC ≥ 0.85" in result.output
    p_check = next(c for c in metrics["checks"] if c["goal"].startswith("P Brier"))
    assert re.fullmatch(r"-?\d+\.\d% \(95% interval -?\d+\.\d%–-?\d+\.\d%; trend .*\)", p_check["measured"])
    assert scratch not in databases(admin_url)  # dropped afterwards
    with engine.connect() as connection:  # the main database was not touched
        assert connection.execute(text("SELECT count(*) FROM exam_results")).scalar() == 0


def test_evaluate_refuses_the_main_database_and_bad_names(
    cli_env: dict[str, str], database_url: str, platform_dir: Path
) -> None:
    main_name = database_url.rsplit("/", 1)[1].split("?")[0]
    for name, message in ((main_name, "must not be the main database"), ("Bad-Name", "must match")):
        result = CliRunner().invoke(evaluate, ["--data", str(platform_dir), "--scratch-db", name])
        assert result.exit_code == 1
        assert message in result.output


def test_evaluate_wants_a_synth_directory(cli_env: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(evaluate, ["--data", str(tmp_path)])
    assert result.exit_code == 1
    assert "not a `dreamseed synth` output" in result.output


def test_model_train_list_activate_deactivate(
    platform_dir: Path, cli_env: dict[str, str], engine: Engine
) -> None:
    load_platform(engine, platform_dir)
    runner = CliRunner()
    trained = runner.invoke(model, ["train", "--date", END.isoformat(), "--weeks", "4"])
    assert trained.exit_code == 0, trained.output
    assert "Stored churn model version 1" in trained.output
    listed = runner.invoke(model, ["list"])
    assert listed.exit_code == 0
    assert listed.output.splitlines()[1].startswith("1")
    assert runner.invoke(model, ["deactivate"]).output.startswith("no churn model is active")
    activated = runner.invoke(model, ["activate", "1"])
    assert activated.exit_code == 0
    assert "version 1 is active" in activated.output
    assert runner.invoke(model, ["activate", "7"]).exit_code == 1
    too_short = runner.invoke(model, ["train", "--date", "2026-10-10", "--weeks", "3"])
    assert too_short.exit_code == 1
    assert "no model trained" in too_short.output
