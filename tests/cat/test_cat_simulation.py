"""Seeded recovery against random selection, the simulation summary, catsim as an oracle, the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from tests.cat.banks import make_bank

from dreamseed.cat import ItemBank, Policy, item_information, simulate
from dreamseed.cli.main import cli


def test_adaptive_rmse_is_clearly_below_random_selection() -> None:
    bank = make_bank(150, seed=5)
    theta = np.random.default_rng(11).normal(size=60)
    adaptive = simulate(bank, theta, Policy(se_stop=None, max_items=12), np.random.default_rng(12))
    random = Policy(se_stop=None, max_items=12, exposure="randomesque", randomesque_k=len(bank))
    baseline = simulate(bank, theta, random, np.random.default_rng(12))
    assert adaptive.rmse.shape == (12,)
    assert adaptive.rmse[-1] < 0.8 * baseline.rmse[-1]
    assert adaptive.rmse[-1] < adaptive.rmse[0]
    assert abs(adaptive.bias[-1]) < 0.15
    assert baseline.share_of_bank_used > adaptive.share_of_bank_used


def test_practice_simulation_lands_near_the_target_share_correct(bank: ItemBank) -> None:
    theta = np.random.default_rng(3).normal(size=40)
    report = simulate(bank, theta, Policy("practice", se_stop=None, max_items=10), np.random.default_rng(4))
    assert abs(report.share_correct - 0.7) < 0.08
    assert report.stop_reasons == {"max_items": 40}


def test_se_stop_shortens_sessions_and_reports_the_length_to_reach_it(bank: ItemBank) -> None:
    theta = np.random.default_rng(5).normal(size=30)
    report = simulate(bank, theta, Policy(se_stop=0.4, max_items=30), np.random.default_rng(6), se_target=0.4)
    assert report.mean_length < 30
    assert report.mean_se_at_stop <= 0.4 + 0.05
    assert report.share_reaching_se > 0.9
    assert report.mean_length_to_se == pytest.approx(report.mean_length, abs=1.5)


def test_catsim_agrees_on_the_information_maximising_item() -> None:
    catsim_bank = pytest.importorskip("catsim.item_bank")
    selection = pytest.importorskip("catsim.selection")
    bank = make_bank(200, seed=9)
    reference = catsim_bank.ItemBank(np.column_stack([bank.a, bank.b, bank.c, np.ones(len(bank))]))
    selector = selection.MaxInfoSelector()
    for theta in (-2.0, -0.7, 0.0, 0.4, 1.5):
        ours = int(np.argmax(item_information(bank, theta)))
        theirs = selector.select(item_bank=reference, administered_items=[], est_theta=theta)
        assert ours == theirs
        administered = [ours]
        second = int(np.argsort(item_information(bank, theta))[-2])
        assert (
            selector.select(item_bank=reference, administered_items=administered, est_theta=theta) == second
        )


def test_cli_simulate_prints_the_table_and_exposure_writes_k(tmp_path: Path) -> None:
    runner = CliRunner()
    bank_csv = tmp_path / "items.csv"
    bank_csv.write_text(
        "item_id,a,b,c,topic\n" + "".join(f"q{k},1.2,{k / 10 - 1:.1f},0.1,t{k % 2}\n" for k in range(20))
    )
    result = runner.invoke(
        cli, ["cat", "simulate", "--bank", str(bank_csv), "--students", "10", "--max-items", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "RMSE" in result.output
    assert "max item exposure" in result.output
    out = tmp_path / "K.csv"
    result = runner.invoke(
        cli, ["cat", "exposure", "--synthetic-items", "30", "--students", "10", "--max-items", "3",
              "--iterations", "2", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("item_id,k\n")


def test_cli_refuses_a_bank_without_columns_and_ambiguous_banks(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = tmp_path / "items.csv"
    bad.write_text("item_id,a\nq1,1.0\n")
    result = runner.invoke(cli, ["cat", "simulate", "--bank", str(bad)])
    assert result.exit_code != 0
    assert "missing column(s) b" in result.output
    result = runner.invoke(cli, ["cat", "simulate"])
    assert "exactly one of --bank" in result.output
