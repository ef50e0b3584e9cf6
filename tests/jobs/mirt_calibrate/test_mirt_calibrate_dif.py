"""mirt-calibrate with MIRT_DIF_GROUP=org_id: the DIF step on the synthetic platform (three orgs,
no DIF planted) stores params.dif on the tested items and metrics.dif on the run, and the
console's item table carries the flag; the step itself (runtime/calibration_dif.py) on planted DIF."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, text
from tests.jobs.mirt_calibrate.calibration_data import END

from dreamseed.irt import Responses
from dreamseed.runtime.calibration_dif import MIN_GROUP_USERS, item_dif, with_dif
from dreamseed.runtime.registry import load_job
from dreamseed.runtime.runner import EXIT_OK, execute
from dreamseed.settings import Settings

JOB = load_job("mirt-calibrate")


@pytest.mark.slow
def test_the_job_tests_items_by_org_and_stores_the_result(
    platform: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    grouped = settings.model_copy(update={"mirt_dif_group": "org_id"})
    assert execute(JOB, grouped, platform, run_date=END) == EXIT_OK
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert "DIF by org_id: " in out, out
    with platform.connect() as connection:
        metrics = connection.execute(text("SELECT metrics FROM mirt_fit_meta")).scalar_one()
        params = [row[0] for row in connection.execute(text("SELECT params FROM mirt_item_params"))]
    dif = metrics["dif"]
    assert set(dif["groups"]) == {"1", "2", "3"}
    assert dif["tested"] == sum("dif" in p for p in params) > 0
    entry = next(p["dif"] for p in params if "dif" in p)
    assert set(entry) >= {"X2", "df", "p", "adj_p", "flagged", "grouping"}
    assert entry["df"] == 4  # 2PL: (a, d) in 3 groups against shared
    assert len(dif["flagged"]) <= 3  # no DIF was planted


def test_without_the_setting_nothing_is_tested(platform: Engine, settings: Settings) -> None:
    assert execute(JOB, settings, platform, run_date=END) == EXIT_OK
    with platform.connect() as connection:
        metrics = connection.execute(text("SELECT metrics FROM mirt_fit_meta")).scalar_one()
    assert "dif" not in metrics


def _planted(seed: int = 3, n: int = 600, j: int = 12) -> tuple[Responses, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.8, 2.0, j), rng.normal(0, 1, j)
    org = np.repeat(["7", "8"], n)
    theta = rng.normal(np.where(org == "8", -0.4, 0.0), 1.0)
    shift = np.where(np.arange(j) == 0, 1.0, 0.0)[None, :] * (org == "8")[:, None]
    answers = rng.random((2 * n, j)) < 1 / (1 + np.exp(-a * (theta[:, None] - b - shift)))
    users = [f"u{k}" for k in range(2 * n)]
    responses = Responses.from_matrix(answers.astype(float), user_ids=users, item_ids=np.arange(100, 100 + j))
    return responses, pd.DataFrame({"user_id": users, "group": org})


def test_the_step_flags_planted_dif_and_skips_small_groups() -> None:
    responses, groups = _planted()
    outcome = item_dif(responses, groups, "org_id", "2PL")
    assert outcome.summary["flagged"] == ["100"]
    assert outcome.summary["reference"] == "8" or outcome.summary["reference"] == "7"
    items = pd.DataFrame({"item_id": ["100", "101"], "model": "2PL", "params": ['{"a": 1}', '{"a": 2}']})
    marked = [json.loads(p) for p in with_dif(items, outcome)["params"]]
    assert marked[0]["dif"]["flagged"] is True
    assert marked[1]["dif"]["flagged"] is False
    few = groups.assign(group=np.where(np.arange(len(groups)) < MIN_GROUP_USERS - 1, "x", "y"))
    skipped = item_dif(responses, few, "org_id", "2PL")
    assert skipped.items == {}
    assert "fewer than two groups" in skipped.summary["skipped"]
