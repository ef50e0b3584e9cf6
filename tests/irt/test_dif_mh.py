"""Mantel–Haenszel DIF and the ETS classes. The oracle is R's ``mantelhaen.test(correct = TRUE)``
on mirt's dif1 data (tests/irt/data/mirt_dif1.csv; strata = total score, strata with fewer than
2 users dropped), run with R 4.2: common odds ratio, χ² and SE(ln α) from its confidence interval.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dreamseed.irt import Responses
from dreamseed.irt.dif_mh import ets_class, mantel_haenszel

DATA = Path(__file__).parent / "data" / "mirt_dif1.csv"
R_ODDS = [1.2587705, 0.8409109, 0.8159827, 1.0062801, 0.9755396, 1.2202743, 0.8317128, 1.1289360,
          1.0299264, 0.9211958]  # fmt: skip
R_X2 = [4.8013470, 2.0867237, 3.3281613, 0.0000305, 0.0288501, 3.5670292, 2.4945021, 1.2276949,
        0.0457495, 0.5716990]  # fmt: skip
R_SE_LOG = [0.1029133, 0.1157148, 0.1083746, 0.1065228, 0.1100232, 0.1027627, 0.1126598, 0.1046260,
            0.1095797, 0.1017288]  # fmt: skip


@pytest.fixture(scope="module")
def mirt_data() -> tuple[Responses, np.ndarray]:
    rows = [line.split(",") for line in DATA.read_text().split()[1:]]
    group = np.array([row[0] for row in rows])
    matrix = np.array([[int(ch) for ch in row[1]] for row in rows], dtype=float)
    return Responses.from_matrix(matrix, item_ids=[f"Item_{k}" for k in range(1, 11)]), group


def test_mantel_haenszel_matches_r_mantelhaen_test(mirt_data: tuple[Responses, np.ndarray]) -> None:
    result = mantel_haenszel(*mirt_data)
    np.testing.assert_allclose(result.odds_ratio, R_ODDS, rtol=1e-6)
    np.testing.assert_allclose(result.statistic, R_X2, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(result.se_d_dif / 2.35, R_SE_LOG, rtol=1e-5)
    np.testing.assert_allclose(result.d_dif, -2.35 * np.log(R_ODDS), rtol=1e-6)
    assert (result.reference, result.focal) == ("D1", "D2")
    assert result.ets_class.tolist() == ["A"] * 10  # |D| < 1 everywhere: the DIF here is small


def test_ets_rules() -> None:
    d = np.array([-0.9, -1.2, -1.2, 1.6, 1.6, 2.5, -1.6])
    se = np.array([0.1, 0.1, 0.1, 0.1, 0.5, 0.2, 0.3])
    p = np.array([0.001, 0.001, 0.2, 0.001, 0.001, 0.001, 0.04])
    # |D| < 1: A; not significant: A; 1 <= |D| < 1.5: B; |D| >= 1.5 and (|D|-1)/SE > 1.645: C
    assert ets_class(d, se, p).tolist() == ["A", "B", "A", "C", "B", "C", "C"]


def test_planted_dif_is_class_c_and_flagged() -> None:
    rng = np.random.default_rng(5)
    n, j = 3000, 15
    a, b = rng.uniform(0.8, 1.8, j), rng.normal(0, 1, j)
    group = np.repeat(["ref", "foc"], n)
    theta = np.concatenate([rng.normal(0, 1, n), rng.normal(-0.5, 1, n)])
    shift = np.where(np.arange(j) == 4, 1.0, 0.0)  # item 4 is 1.0 harder for the focal group
    bb = b[None, :] + shift[None, :] * (group == "foc")[:, None]
    answers = (rng.random((2 * n, j)) < 1 / (1 + np.exp(-a * (theta[:, None] - bb)))).astype(float)
    result = mantel_haenszel(Responses.from_matrix(answers), group, reference="ref", focal="foc")
    assert result.flagged_items() == [4]
    assert result.ets_class[4] == "C"
    assert result.d_dif[4] < -1.5


def test_mistakes_are_explained(mirt_data: tuple[Responses, np.ndarray]) -> None:
    responses, group = mirt_data
    with pytest.raises(ValueError, match="two groups"):
        mantel_haenszel(responses, np.full(group.size, "x"))
    three = group.copy()
    three[:10] = "D3"
    with pytest.raises(ValueError, match="name the reference and the focal"):
        mantel_haenszel(responses, three)
    matrix = responses.correct_counts.toarray().astype(float)
    matrix[0, 0] = np.nan
    holey = Responses.from_matrix(matrix, item_ids=responses.item_ids)
    with pytest.raises(ValueError, match="complete data; 1 of 2000"):
        mantel_haenszel(holey, group)
    assert mantel_haenszel(holey, group, incomplete="complete-cases").n_dropped == 1
