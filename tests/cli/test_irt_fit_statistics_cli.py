"""`dreamseed irt fit` writes and prints the fit report's statistics (LSAT7, complete data)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.irt.test_irt_lsat import LSAT7

from dreamseed.cli.main import cli


@pytest.fixture(scope="module")
def lsat7_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lsat7") / "responses.csv"
    rows = ["user_id,item_id,correct"]
    user = 0
    for pattern, n in LSAT7.items():
        for _ in range(n):
            rows += [f"u{user},Item_{k + 1},{answer}" for k, answer in enumerate(pattern)]
            user += 1
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_fit_writes_item_and_person_fit_and_prints_the_statistics(lsat7_csv: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["irt", "fit", str(lsat7_csv), "--out", str(tmp_path), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "M2 11.938 on 5 df" in result.output
    assert "EAP-sum table: 6 scores, reliability 0.432" in result.output
    written = json.loads((tmp_path / "fit.json").read_text())
    assert written["statistics"]["model_fit"]["m2"] == pytest.approx(11.93841, abs=1e-2)
    with (tmp_path / "item_fit.csv").open() as handle:
        items = list(csv.DictReader(handle))
    assert [row["item_id"] for row in items] == [f"Item_{k}" for k in range(1, 6)]
    assert float(items[0]["zh"]) == pytest.approx(1.431838, abs=1e-2)  # mirt itemfit(modm1, 'Zh')
    with (tmp_path / "person_fit.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 1000


def test_no_statistics_skips_them(lsat7_csv: Path, tmp_path: Path) -> None:
    args = ["irt", "fit", str(lsat7_csv), "--out", str(tmp_path), "--quiet", "--no-statistics"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "M2" not in result.output
    assert "statistics" not in json.loads((tmp_path / "fit.json").read_text())
    assert not (tmp_path / "item_fit.csv").exists()
