"""`dreamseed irt fit` and `dreamseed irt score` on CSV files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from dreamseed.cli.main import cli
from dreamseed.irt import simulate_responses


@pytest.fixture(scope="module")
def responses_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sim = simulate_responses(600, 15, 0.6, "2PL", seed=41)
    pairs = sim.responses.pairs
    frame = pd.DataFrame(
        {
            "user_id": [f"s{u}" for u in sim.responses.user_ids[pairs.user]],
            "item_id": sim.responses.item_ids[pairs.item],
            "correct": pairs.n_correct.astype(int),
            "extra": "ignored",
        }
    )
    path = tmp_path_factory.mktemp("irt") / "responses.csv"
    frame.to_csv(path, index=False)
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["irt", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("model", ["1PL", "2PL", "3PL"])
def test_fit_writes_items_abilities_and_fit_json(responses_csv: Path, tmp_path: Path, model: str) -> None:
    code, output = run("fit", str(responses_csv), "--model", model, "--out", str(tmp_path))
    assert code == 0, output
    items = pd.read_csv(tmp_path / "items.csv")
    assert list(items.columns) == ["item_id", "a", "b", "c", "se_a", "se_b", "se_c"]
    assert len(items) == 15
    assert np.isfinite(items.drop(columns="item_id").to_numpy()).all()
    abilities = pd.read_csv(tmp_path / "abilities.csv")
    assert list(abilities.columns) == ["user_id", "theta", "se"]
    assert abilities["user_id"].str.startswith("s").all()
    report = json.loads((tmp_path / "fit.json").read_text("utf-8"))
    assert report["model"] == model
    assert report["converged"] is True
    assert report["n_items"] == 15
    assert {"loglik", "aic", "bic", "iterations", "empirical_reliability", "item_fit"} <= set(report)
    assert "iteration    1: log-posterior" in output
    assert f"Calibrated {model} on" in output


def test_fit_with_anchors_and_previous_reports_drift(responses_csv: Path, tmp_path: Path) -> None:
    first = tmp_path / "first"
    assert run("fit", str(responses_csv), "--out", str(first), "--quiet")[0] == 0
    items = pd.read_csv(first / "items.csv")
    items.head(5).to_csv(tmp_path / "anchors.csv", index=False)
    second = tmp_path / "second"
    code, output = run(
        "fit",
        str(responses_csv),
        "--anchors",
        str(tmp_path / "anchors.csv"),
        "--previous",
        str(first / "items.csv"),
        "--out",
        str(second),
        "--quiet",
    )
    assert code == 0, output
    assert "log-posterior" not in output
    again = pd.read_csv(second / "items.csv")
    np.testing.assert_allclose(again["b"].head(5), items["b"].head(5), atol=1e-12)
    report = json.loads((second / "fit.json").read_text("utf-8"))
    assert len(report["fixed_items"]) == 5
    assert report["drift"]["n_shared"] == 15
    assert report["linking_constants"]["stocking_lord"]["A"] == pytest.approx(1.0, abs=0.1)


def test_score_writes_one_row_per_user(responses_csv: Path, tmp_path: Path) -> None:
    assert run("fit", str(responses_csv), "--out", str(tmp_path), "--quiet")[0] == 0
    for method in ("EAP", "MAP", "ML"):
        out = tmp_path / f"scores_{method}.csv"
        code, output = run("score", str(responses_csv), "--items", str(tmp_path / "items.csv"), "--method", method,
                           "--out", str(out))  # fmt: skip
        assert code == 0, output
        scores = pd.read_csv(out)
        assert list(scores.columns) == ["user_id", "theta", "se", "n_responses"]
        assert len(scores) == 600
        assert np.isfinite(scores[["theta", "se"]].to_numpy()).all()
    eap = pd.read_csv(tmp_path / "scores_EAP.csv")
    fitted = pd.read_csv(tmp_path / "abilities.csv")
    np.testing.assert_allclose(eap["theta"], fitted["theta"], atol=1e-9)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("user_id,item_id,correct\n", "no responses"),
        ("user,item,correct\nu,q,1\n", "lacks column(s) user_id, item_id"),
        ("user_id,item_id,correct\nu,q,1\nv,q,2\n", "correct must be 0 or 1"),
        ("user_id,item_id,correct\nu,q,1\nv,q,\n", "missing"),
        ("user_id,item_id,correct\nu,q,1\n,q,0\n", "user_id is empty on line 3"),
        ("user_id,item_id,correct\nu,q,true\nv,q,true\n", "nothing to calibrate"),
    ],
)
def test_bad_input_gives_a_message_and_non_zero_exit(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(cli, ["irt", "fit", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, ValueError)


def test_bad_items_file_is_explained(responses_csv: Path, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("item_id,a,b\nq1,1.0,abc\n", encoding="utf-8")
    code, output = run("score", str(responses_csv), "--items", str(path), "--out", str(tmp_path / "s.csv"))
    assert code != 0
    assert "column b is not a number on line 2" in output


def test_help_explains_the_commands() -> None:
    code, output = run("--help")
    assert code == 0
    assert "fit" in output
    assert "score" in output
    code, output = run("fit", "--help")
    assert "items.csv" in output
    assert "--anchors" in output
    code, output = run("score", "--help")
    assert "EAP" in output


def test_fit_rasch_holds_every_slope_at_one(responses_csv: Path, tmp_path: Path) -> None:
    code, output = run("fit", str(responses_csv), "--model", "Rasch", "--out", str(tmp_path), "--quiet")
    assert code == 0, output
    items = pd.read_csv(tmp_path / "items.csv")
    assert np.allclose(items["a"], 1.0)
    assert json.loads((tmp_path / "fit.json").read_text("utf-8"))["model"] == "Rasch"


def test_fit_quadrature_options_set_the_estimation_grid(responses_csv: Path, tmp_path: Path) -> None:
    args = ("--quadpts", "21", "--theta-lim", "5", "--out", str(tmp_path), "--quiet")
    code, output = run("fit", str(responses_csv), *args)
    assert code == 0, output
    grid = json.loads((tmp_path / "fit.json").read_text("utf-8"))["settings"]["quadrature"]
    assert grid == {"n_points": 21, "min": -5.0, "max": 5.0}


def test_fit_defaults_are_the_engine_defaults(responses_csv: Path, tmp_path: Path) -> None:
    assert run("fit", str(responses_csv), "--out", str(tmp_path / "default"), "--quiet")[0] == 0
    spelled = ("--quadpts", "41", "--theta-lim", "6", "--se", "auto", "--quiet")
    assert run("fit", str(responses_csv), *spelled, "--out", str(tmp_path / "spelled"))[0] == 0
    for name in ("items.csv", "abilities.csv"):
        assert (tmp_path / "default" / name).read_text() == (tmp_path / "spelled" / name).read_text()


@pytest.mark.parametrize(("se", "method"), [("full", "full"), ("block-diagonal", None)])
def test_fit_se_option_picks_the_covariance(
    responses_csv: Path, tmp_path: Path, se: str, method: str | None
) -> None:
    code, output = run("fit", str(responses_csv), "--se", se, "--out", str(tmp_path), "--quiet")
    assert code == 0, output
    covariance = json.loads((tmp_path / "fit.json").read_text("utf-8"))["covariance"]
    if method is None:
        assert covariance is None
    else:
        assert covariance["method"] == method
        assert covariance["condition_number"] > 1
    assert np.all(pd.read_csv(tmp_path / "items.csv")["se_b"] > 0)


def test_score_grid_options_bound_ml_estimates(responses_csv: Path, tmp_path: Path) -> None:
    assert run("fit", str(responses_csv), "--out", str(tmp_path), "--quiet")[0] == 0
    out = tmp_path / "theta.csv"
    args = ("--items", str(tmp_path / "items.csv"), "--method", "ML", "--out", str(out))
    code, output = run("score", str(responses_csv), *args, "--score-quadpts", "31", "--score-theta-lim", "2")
    assert code == 0, output
    theta = pd.read_csv(out)["theta"]
    assert theta.between(-2, 2).all()
    assert np.isclose(theta.abs().max(), 2.0)


def test_score_default_grid_is_81_points_on_4(responses_csv: Path, tmp_path: Path) -> None:
    assert run("fit", str(responses_csv), "--out", str(tmp_path), "--quiet")[0] == 0
    items = ("--items", str(tmp_path / "items.csv"))
    assert run("score", str(responses_csv), *items, "--out", str(tmp_path / "a.csv"))[0] == 0
    spelled = ("--score-quadpts", "81", "--score-theta-lim", "4")
    assert run("score", str(responses_csv), *items, *spelled, "--out", str(tmp_path / "b.csv"))[0] == 0
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()


def test_help_documents_the_grid_and_se_options() -> None:
    fit_help = run("fit", "--help")[1]
    for option in ("--quadpts", "--theta-lim", "--se", "Rasch", "block-diagonal"):
        assert option in fit_help
    score_help = run("score", "--help")[1]
    assert "--score-quadpts" in score_help
    assert "--score-theta-lim" in score_help
