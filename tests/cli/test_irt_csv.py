"""The Arrow response reader of `dreamseed irt`: same answers, same checks, lines named in errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest

from dreamseed.cli.irt_csv import read_responses, write_csv


def read(
    tmp_path: Path, text: str, duplicates: str = "all"
) -> tuple[list[str], list[str], list[list[float]]]:
    path = tmp_path / "responses.csv"
    path.write_bytes(text.encode("utf-8"))
    responses = read_responses(path, duplicates)
    return responses.user_ids.tolist(), responses.item_ids.tolist(), responses.counts.toarray().tolist()


def refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(click.ClickException) as error:
        read(tmp_path, text)
    return error.value.message


def test_ids_are_text_in_order_of_first_appearance(tmp_path: Path) -> None:
    users, items, counts = read(tmp_path, "user_id,item_id,correct\n10,q2,1\n2,q1,0\n10,q1,1\n")
    assert users == ["10", "2"]
    assert items == ["q2", "q1"]
    assert counts == [[1, 1, 0, 0], [0, 0, 0, 1]]  # columns: right q2, q1, then wrong q2, q1


@pytest.mark.parametrize(
    "text",
    [
        "\ufeffuser_id,item_id,correct\nu1,i1,1\nu2,i1,0\n",
        "user_id,item_id,correct\r\nu1,i1,1\r\n\r\nu2,i1,0\r\n",
        'correct,extra,item_id,user_id\n" TRUE ",x,i1,u1\nno,,i1,u2\n',
        "user_id,item_id,correct\nu1,i1,1.0\nu2,i1,0",
    ],
)
def test_bom_crlf_quotes_words_numbers_and_no_last_newline(tmp_path: Path, text: str) -> None:
    assert read(tmp_path, text) == (["u1", "u2"], ["i1"], [[1, 0], [0, 1]])


def test_ids_keep_their_spaces_and_quoted_commas(tmp_path: Path) -> None:
    users, _, _ = read(tmp_path, 'user_id,item_id,correct\n"u,1",i1,1\n u2 ,i1,0\n')
    assert users == ["u,1", " u2 "]


def test_repeated_answers_keep_all_or_the_last(tmp_path: Path) -> None:
    text = "user_id,item_id,correct\nu1,i1,1\nu1,i1,0\n"
    assert read(tmp_path, text)[2] == [[1, 1]]
    assert read(tmp_path, text, "last")[2] == [[0, 1]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "user_id,item_id,correct\nu1,i1,1\n\nu2,i1\n",
            "fewer fields than the header (Expected 3 fields in line 4, saw 2)",
        ),
        (
            "user_id,item_id,correct\nu1,i1,1\nu2,i1,0,9\n",
            "more fields than the header (Expected 3 fields in line 3",
        ),
        (
            "user_id,item_id,correct\nu1,i1,1\n\nu2,i1,2\nu3,i1,2\n",
            "found 2 other value(s), e.g. '2' (lines 4, 5)",
        ),
        ("user_id,item_id,correct\nu1,,1\n", "item_id is empty on line 2"),
        ("user_id,item_id,correct,extra\nu1,i1,1,\n,,,x\n", "user_id is empty on line 3"),
        ("user_id,item_id,correct\n\n\n", "no responses"),
        ("user_id,correct\nu1,1\n", "lacks column(s) item_id"),
        ("", "is empty"),
    ],
)
def test_bad_rows_are_refused_with_their_line(tmp_path: Path, text: str, message: str) -> None:
    assert message in refused(tmp_path, text)


def test_written_csv_is_what_pandas_writes(tmp_path: Path) -> None:
    columns = {
        "item_id": np.array(["q1", "q,2", "q3"]),
        "a": np.array([1.0, 0.1 + 0.2, 1e-05]),
        "se": np.array([np.nan, 2.5e16, 0.0]),
        "n": np.array([1, 2, 3]),
    }
    write_csv(tmp_path / "ours.csv", columns)
    pd.DataFrame(columns).to_csv(tmp_path / "pandas.csv", index=False)
    assert (tmp_path / "ours.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_irt_fit_imports_neither_pandas_nor_the_database_layer_nor_scipy_stats(tmp_path: Path) -> None:
    path = tmp_path / "responses.csv"
    path.write_text("user_id,item_id,correct\nu1,i1,1\nu2,i1,0\nu1,i2,0\nu2,i2,1\n", encoding="utf-8")
    script = (
        "import sys\n"
        "from dreamseed.cli.main import cli\n"
        f"cli(['irt', 'fit', {str(path)!r}, '--out', {str(tmp_path / 'out')!r}, '--quiet'], standalone_mode=False)\n"
        "print(sorted(m for m in ('pandas', 'sqlalchemy', 'scipy.stats', 'scipy.optimize') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
