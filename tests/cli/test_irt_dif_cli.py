"""`dreamseed irt dif` end to end on mirt's dif1 data (tests/irt/data/mirt_dif1.csv) written as
long-format CSVs: the three methods, the output formats, and the group-file mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from dreamseed.cli.main import cli

DATA = Path(__file__).parents[1] / "irt" / "data" / "mirt_dif1.csv"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("dif")
    rows = [line.split(",") for line in DATA.read_text().split()[1:]]
    answers = [
        (f"u{u}", f"Item_{k + 1}", ch) for u, (_, line) in enumerate(rows) for k, ch in enumerate(line)
    ]
    pd.DataFrame(answers, columns=["user_id", "item_id", "correct"]).to_csv(folder / "r.csv", index=False)
    groups = pd.DataFrame({"user_id": [f"u{u}" for u in range(len(rows))], "org_id": [r[0] for r in rows]})
    groups.to_csv(folder / "g.csv", index=False)
    return folder / "r.csv", folder / "g.csv"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["irt", "dif", *args])
    return result.exit_code, result.output


def test_lr_drop_writes_a_csv_and_names_the_flagged_items(files: tuple[Path, Path], tmp_path: Path) -> None:
    code, output = run(str(files[0]), "--groups", str(files[1]), "--group-column", "org_id",
                       "--out", str(tmp_path / "dif.csv"))  # fmt: skip
    assert code == 0, output
    assert "2 of 10 items flagged" in output
    assert "Item_1: 18.89 (adjusted p" in output
    table = pd.read_csv(tmp_path / "dif.csv")
    assert table.item_id.tolist()[:2] == ["Item_1", "Item_2"]
    assert table.X2[0] == pytest.approx(18.88, rel=1e-3)  # mirt's scheme='drop' pin
    assert table.flagged.tolist() == [True, True] + [False] * 8


def test_mh_and_wald_write_json(files: tuple[Path, Path], tmp_path: Path) -> None:
    code, output = run(str(files[0]), "--groups", str(files[1]), "--group-column", "org_id",
                       "--method", "mh", "--out", str(tmp_path / "mh.json"))  # fmt: skip
    assert code == 0, output
    written = json.loads((tmp_path / "mh.json").read_text())
    assert written["dif"]["details"]["reference"] == "D1"
    assert written["dif"]["items"][0]["odds_ratio"] == pytest.approx(1.2587705, rel=1e-6)  # R mantelhaen.test
    assert {row["ets_class"] for row in written["dif"]["items"]} == {"A"}
    code, output = run(str(files[0]), "--groups", str(files[1]), "--group-column", "org_id",
                       "--method", "wald", "--out", str(tmp_path / "w.csv"))  # fmt: skip
    assert code == 0, output
    assert pd.read_csv(tmp_path / "w.csv").adj_p[0] == pytest.approx(0.02473307, rel=1e-2)  # mirt


def test_group_file_mistakes_are_explained(files: tuple[Path, Path], tmp_path: Path) -> None:
    responses, groups = files
    out = str(tmp_path / "x.csv")
    code, output = run(str(responses), "--groups", str(groups), "--out", out)
    assert code == 1
    assert "lacks column(s) group" in output
    frame = pd.read_csv(groups)
    frame.head(100).to_csv(tmp_path / "few.csv", index=False)
    code, output = run(
        str(responses), "--groups", str(tmp_path / "few.csv"), "--group-column", "org_id", "--out", out
    )
    assert "1,900 of 2,000 users in the responses have no org_id" in output
    frame.assign(org_id="D1").to_csv(tmp_path / "one.csv", index=False)
    code, output = run(
        str(responses), "--groups", str(tmp_path / "one.csv"), "--group-column", "org_id", "--out", out
    )
    assert "DIF needs at least two groups" in output
    pd.concat([frame, frame.head(1).assign(org_id="D2")]).to_csv(tmp_path / "two.csv", index=False)
    code, output = run(
        str(responses), "--groups", str(tmp_path / "two.csv"), "--group-column", "org_id", "--out", out
    )
    assert "u0 have more than one org_id" in output
    code, output = run(str(responses), "--groups", str(groups), "--group-column", "org_id",
                       "--method", "lr", "--anchors", "Item_1,nope", "--out", out)  # fmt: skip
    assert "not in the responses: nope" in output
    assert "Traceback" not in output
