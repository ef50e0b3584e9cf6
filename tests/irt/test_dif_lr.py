"""Likelihood-ratio DIF on the joint two-group model against R mirt's test-17-DIF_DRF.R, on its
own data set ``testdata/dif1.rds`` (2 × 1000 simulated 2PL respondents; slopes of items 1–2 and
intercepts of items 1 and 3 differ; focal group N(0.1, 1.5)), converted with PyPI ``rdata`` to
tests/irt/data/mirt_dif1.csv. Tolerances are mirt's ``expect_equal`` tolerances (relative).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dreamseed.irt import Responses
from dreamseed.irt.dif_lr import lr_dif, purified_lr_dif

DATA = Path(__file__).parent / "data" / "mirt_dif1.csv"
IDS = [f"Item_{k}" for k in range(1, 11)]


@pytest.fixture(scope="module")
def mirt_data() -> tuple[Responses, np.ndarray]:
    rows = [line.split(",") for line in DATA.read_text().split()[1:]]
    group = np.array([row[0] for row in rows])
    matrix = np.array([[int(ch) for ch in row[1]] for row in rows], dtype=float)
    return Responses.from_matrix(matrix, item_ids=IDS), group


def test_add_scheme_on_intercepts_matches_mirt_aic(mirt_data: tuple[Responses, np.ndarray]) -> None:
    # mirt: DIF(multipleGroup(dat, 1, group), which.par = 'd', items2test = c(1, 3))[2, 'AIC'] = -3.414
    result = lr_dif(*mirt_data, "2PL", scheme="add", items=["Item_1", "Item_3"], parameters=["d"])
    assert result.aic[1] == pytest.approx(-3.414, rel=1e-3)
    assert result.df.tolist() == [1, 1]
    assert result.baseline.means.tolist() == [0.0, 0.0]  # no anchors: both groups N(0, 1)
    assert result.baseline.sds.tolist() == [1.0, 1.0]


def test_drop_scheme_matches_mirt_x2(mirt_data: tuple[Responses, np.ndarray]) -> None:
    # mirt: DIF(model with invariance = c('slopes', 'intercepts', 'free_means', 'free_var'),
    #           c('a1', 'd'), items2test = c(1, 3), scheme = 'drop')[1, 'X2'] = 18.88
    result = lr_dif(*mirt_data, "2PL", scheme="drop", items=["Item_1", "Item_3"])
    assert result.statistic[0] == pytest.approx(18.88, rel=1e-3)
    assert result.df.tolist() == [2, 2]
    assert result.baseline.n_parameters == 22  # 10 × (a, d) + focal mean and variance


def test_add_scheme_with_five_anchors_matches_mirt_p_values(mirt_data: tuple[Responses, np.ndarray]) -> None:
    # mirt: DIF(multipleGroup(dat, 1, group, invariance = c(items 1-5, 'free_means', 'free_var')),
    #           c('a1', 'd'), items2test = 6:10)$p, tolerance 1e-4
    result = lr_dif(*mirt_data, "2PL", scheme="add", items=IDS[5:], anchors=IDS[:5])
    np.testing.assert_allclose(
        result.p_value, [0.103812, 0.04867894, 0.1565903, 0.1118176, 0.6921238], rtol=1e-4
    )
    assert result.anchors == tuple(IDS[:5])


def test_all_others_as_anchors_and_purified_anchors_flag_the_planted_items(
    mirt_data: tuple[Responses, np.ndarray],
) -> None:
    first = lr_dif(*mirt_data, "2PL")
    assert first.flagged_items() == ["Item_1", "Item_2"]
    purified = purified_lr_dif(*mirt_data, "2PL")
    assert purified.flagged_items() == ["Item_1", "Item_2"]
    assert purified.anchors == tuple(IDS[2:])
    assert purified.history == [["Item_1", "Item_2"], ["Item_1", "Item_2"]]
    # against the purified anchors item 1's X2 grows: item 2 no longer distorts the scale
    assert purified.statistic[0] > first.statistic[0]


def test_bad_parameters_and_scheme_are_refused(mirt_data: tuple[Responses, np.ndarray]) -> None:
    with pytest.raises(ValueError, match="DIF parameters"):
        lr_dif(*mirt_data, "1PL", parameters=["a"])
    with pytest.raises(ValueError, match="scheme"):
        lr_dif(*mirt_data, "2PL", scheme="both")  # type: ignore[arg-type]


def test_1pl_and_rasch_give_the_same_likelihood_ratios(mirt_data: tuple[Responses, np.ndarray]) -> None:
    # the two are reparametrisations of each other (common slope with SD 1 vs slopes 1 with SD free)
    one = lr_dif(*mirt_data, "1PL", items=["Item_1", "Item_3"])
    rasch = lr_dif(*mirt_data, "Rasch", items=["Item_1", "Item_3"])
    np.testing.assert_allclose(one.statistic, rasch.statistic, rtol=1e-3)
    assert one.df.tolist() == [1, 1]
    assert one.statistic[0] == pytest.approx(5.391, abs=2e-3)
