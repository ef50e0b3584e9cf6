"""`dreamseed synth`: writes the platform files, summarises them, and is deterministic."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

from dreamseed.cli.main import cli

ARGS = ["synth", "--students", "40", "--weeks", "2", "--seed", "9", "--end-date", "2026-11-01"]
FILES = [
    "exam_results.jsonl",
    "questions.csv",
    "goals.csv",
    "truth/items.csv",
    "truth/students.csv",
    "truth/theta_weekly.csv",
    "truth/bad_rows.csv",
    "truth/meta.json",
]


def test_synth_writes_every_file_and_a_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, [*ARGS, "--out", str(tmp_path), "--bad-rows", "6"])
    assert result.exit_code == 0, result.output
    for name in FILES:
        assert (tmp_path / name).stat().st_size > 0, name
    meta = json.loads((tmp_path / "truth" / "meta.json").read_text("utf-8"))
    assert meta["end_date"] == "2026-11-01"
    assert meta["counts"]["students"] == 40
    assert meta["counts"]["bad_rows"] == 6
    assert f"Wrote a synthetic platform to {tmp_path}" in result.output
    assert f"{meta['counts']['sessions']:,} sessions" in result.output
    assert "truth/theta_weekly.csv" in result.output
    assert "dreamseed ingest exam-results" in result.output


def test_synth_is_deterministic_and_honours_sizes(tmp_path: Path) -> None:
    runner = CliRunner()
    extra = ["--topics", "3", "--items-per-topic", "20"]
    for name in ("a", "b"):
        assert runner.invoke(cli, [*ARGS, *extra, "--out", str(tmp_path / name)]).exit_code == 0
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    questions = (tmp_path / "a" / "questions.csv").read_text("utf-8").splitlines()
    assert len(questions) == 1 + 3 * 20


def test_the_end_date_defaults_to_yesterday(tmp_path: Path) -> None:
    before = dt.date.today() - dt.timedelta(days=1)
    result = CliRunner().invoke(cli, ["synth", "--students", "5", "--weeks", "1", "--out", str(tmp_path)])
    after = dt.date.today() - dt.timedelta(days=1)
    assert result.exit_code == 0, result.output
    end = json.loads((tmp_path / "truth" / "meta.json").read_text("utf-8"))["end_date"]
    assert end in {before.isoformat(), after.isoformat()}


def test_impossible_requests_fail_with_a_message(tmp_path: Path) -> None:
    runner = CliRunner()
    too_many = runner.invoke(cli, [*ARGS, "--out", str(tmp_path), "--bad-rows", "100000"])
    assert too_many.exit_code == 1
    assert "exceeds" in too_many.output
    bad_size = runner.invoke(cli, [*ARGS, "--out", str(tmp_path), "--items-per-topic", "3"])
    assert bad_size.exit_code == 2
    bad_date = runner.invoke(cli, [*ARGS[:-1], "01/11/2026", "--out", str(tmp_path)])
    assert bad_date.exit_code == 2
