"""`dreamseed irt export-responses` and synth's responses.csv feed `dreamseed irt fit` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from dreamseed.cli.main import cli

END = "2026-11-30"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "platform"
    result = invoke(
        "synth", "--students", "80", "--weeks", "3", "--bad-rows", "12", "--end-date", END, "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    return out


def sorted_answers(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str)
    assert list(frame.columns) == ["user_id", "item_id", "correct"]
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def fit(responses: Path, out: Path) -> dict[str, object]:
    result = invoke("irt", "fit", str(responses), "--model", "2PL", "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "fit.json").read_text())
    assert isinstance(report, dict)
    return report


def test_synth_writes_responses_csv_that_irt_fit_reads(synth_dir: Path, tmp_path: Path) -> None:
    responses = synth_dir / "responses.csv"
    truth = pd.read_csv(synth_dir / "truth" / "bad_rows.csv")
    frame = pd.read_csv(responses, dtype=str)
    assert list(frame.columns) == ["user_id", "item_id", "correct"]
    assert set(frame["correct"]) <= {"0", "1"}
    report = fit(responses, tmp_path / "fit")
    assert report["n_obs"] == len(frame)
    assert len(frame) > 1000
    assert (truth["question_index"] >= 0).any()  # some questions are malformed and left out


def test_export_from_synth_gives_the_same_file(synth_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "exported.csv"
    result = invoke("irt", "export-responses", "--from-synth", str(synth_dir), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "malformed" in result.output
    assert out.read_bytes() == (synth_dir / "responses.csv").read_bytes()
    jsonl = invoke(
        "irt", "export-responses", "--from-synth", str(synth_dir / "exam_results.jsonl"), "--out", str(out)
    )
    assert jsonl.exit_code == 0, jsonl.output


def test_export_from_the_database_then_fit(cli_env: dict[str, str], synth_dir: Path, tmp_path: Path) -> None:
    for kind, name in (("questions", "questions.csv"), ("exam-results", "exam_results.jsonl")):
        loaded = invoke("ingest", kind, str(synth_dir / name))
        assert loaded.exit_code in (0, 3), loaded.output  # 3: the bad rows were rejected (and kept)
    out = tmp_path / "db" / "responses.csv"
    result = invoke("irt", "export-responses", "--since", "2026-10-01", "--until", END, "--out", str(out))
    assert result.exit_code == 0, result.output
    exported = sorted_answers(out)
    assert exported.equals(sorted_answers(synth_dir / "responses.csv"))
    report = fit(out, tmp_path / "fit")
    assert report["n_obs"] == len(exported)


def test_export_window_defaults_and_empty_windows(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "empty.csv"
    result = invoke("irt", "export-responses", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "no answers in that window" in result.output
    assert out.read_text() == "user_id,item_id,correct\n"
    backwards = invoke("irt", "export-responses", "--since", END, "--until", "2026-11-01", "--out", str(out))
    assert backwards.exit_code == 1
    assert "before --since" in backwards.output


def test_export_from_a_folder_without_exam_results(tmp_path: Path) -> None:
    result = invoke(
        "irt", "export-responses", "--from-synth", str(tmp_path), "--out", str(tmp_path / "x.csv")
    )
    assert result.exit_code == 1
    assert "has no exam_results.jsonl" in result.output
    assert not (tmp_path / "x.csv").exists()
