"""Wald DIF against R mirt (github.com/philchalmers/mirt tests/testthat/test-17-DIF_DRF.R) on its
own data set ``testdata/dif1.rds`` (2 × 1000 simulated 2PL respondents, DIF planted in items 1–3;
converted to tests/irt/data/mirt_dif1.csv with PyPI ``rdata``): ``multipleGroup(dat, 1, group)``
without constraints, ``DIF(..., which.par = 'd', Wald = TRUE)`` W[1] = 1.532718, p = 0.2157049,
and ``which.par = c('a1', 'd'), p.adjust = 'fdr'`` adjusted p of all ten items (tolerance 1e-3).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dreamseed.irt import Calibration, Responses, calibrate, mirt_grid, simulate_items
from dreamseed.irt.dif import benjamini_hochberg, wald_dif
from dreamseed.irt.parameters import probability_correct

DATA = Path(__file__).parent / "data" / "mirt_dif1.csv"
MIRT_FDR = [0.02473307, 0.01580279, 0.1261503, 0.4299811, 0.4672727, 0.4565218, 0.05971613, 0.5671398,
            0.4299811, 0.4565218]  # fmt: skip


def _group(matrix: np.ndarray, ids: list[str]) -> Calibration:
    return calibrate(
        Responses.from_matrix(matrix, item_ids=ids), "2PL", quadrature=mirt_grid(), covariance="full"
    )


@pytest.fixture(scope="module")
def mirt_groups() -> tuple[Calibration, Calibration]:
    rows = [line.split(",") for line in DATA.read_text().split()[1:]]
    group = np.array([row[0] for row in rows])
    matrix = np.array([[int(ch) for ch in row[1]] for row in rows], dtype=float)
    ids = [f"Item_{k}" for k in range(1, 11)]
    return _group(matrix[group == "D1"], ids), _group(matrix[group == "D2"], ids)


def test_wald_dif_on_intercepts_matches_mirt(mirt_groups: tuple[Calibration, Calibration]) -> None:
    result = wald_dif(*mirt_groups, items=["Item_1", "Item_2", "Item_3"], parameters=("d",))
    assert result.statistic[0] == pytest.approx(1.532718, rel=1e-3)
    assert result.p_value[0] == pytest.approx(0.2157049, rel=1e-3)
    assert result.df == 1


def test_wald_dif_on_slopes_and_intercepts_with_fdr_matches_mirt(
    mirt_groups: tuple[Calibration, Calibration],
) -> None:
    result = wald_dif(*mirt_groups, parameters=("a", "d"))
    np.testing.assert_allclose(result.adjusted_p, MIRT_FDR, rtol=1e-2)
    assert result.flagged_items() == ["Item_1", "Item_2"]


def test_benjamini_hochberg_matches_r_p_adjust() -> None:
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.2), 'fdr') = 0.04 0.0533 0.0533 0.2
    np.testing.assert_allclose(benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.2])),
                               [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2])  # fmt: skip


def _simulated_groups(seed: int, planted: bool) -> tuple[Calibration, Calibration]:
    items = simulate_items(20, "2PL", seed=seed)
    rng = np.random.default_rng(seed)
    shift = np.zeros(20)
    if planted:
        shift[[3, 11]] = 0.8  # the focal group finds items 4 and 12 harder by 0.8 on b
    groups = []
    for b in (items.b, items.b + shift):
        theta = rng.standard_normal(2000)
        answers = rng.random((2000, 20)) < probability_correct(theta[:, None], items.a, b)
        groups.append(_group(answers.astype(float), items.item_id.tolist()))
    return groups[0], groups[1]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_planted_dif_is_found_and_nothing_else_at_alpha_001(seed: int) -> None:
    result = wald_dif(*_simulated_groups(seed, planted=True), alpha=0.01)
    assert result.flagged_items() == ["i3", "i11"]
    clean = wald_dif(*_simulated_groups(seed + 100, planted=False), alpha=0.01)
    assert clean.flagged_items() == []
