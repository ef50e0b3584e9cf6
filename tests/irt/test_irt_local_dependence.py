"""LD X2 and Q3. LD X2 against R mirt's pinned matrix (github.com/philchalmers/mirt
tests/testthat/test-01-mirtOne.R, ``res1 <- residuals(modm1)`` for the LSAT7 2PL: X2 below the
diagonal, signed Cramér's V above; tolerance 1e-2 there, 1e-3 here: ours agree to 1.5e-4).
Q3 against a direct residual correlation and on simulated data with a planted dependent pair.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.irt.test_irt_lsat import LSAT7, expand

from dreamseed.irt import Responses, calibrate, mirt_grid, probability_correct, simulate_items
from dreamseed.irt.local_dependence import dependent_pairs, ld_x2, local_dependence_at, yen_q3

MIRT_LD = np.array([
    np.nan, 0.451213, 0.8562096, 2.577395, 2.392183, -0.02124177, np.nan, 1.053826, 0.2662122, 1.383089,
    -0.02926106, 0.03246269, np.nan, 0.1542321, 0.002940504, 0.05076805, -0.01631601, -0.01241902, np.nan,
    9.962506e-06, 0.04890994, -0.0371899, -0.00171479, 9.981236e-05, np.nan,
]).reshape(5, 5).T  # R's as.numeric is column-major  # fmt: skip


@pytest.fixture(scope="module")
def lsat7() -> Responses:
    return expand(LSAT7)


def test_lsat7_2pl_ld_matrix_matches_mirt(lsat7: Responses) -> None:
    cal = calibrate(lsat7, "2PL", quadrature=mirt_grid(), covariance="block-diagonal")
    ld = ld_x2(lsat7, cal.items)
    np.testing.assert_allclose(ld.mirt_matrix(), MIRT_LD, atol=1e-3)
    assert np.all(ld.n_pairs == 1000)
    assert ld.p_value[3, 0] == pytest.approx(0.1084, abs=1e-3)
    assert [pair[:2] for pair in dependent_pairs(ld.x2, 2.0, ld.item_id)] == [
        ("Item_1", "Item_4"),
        ("Item_1", "Item_5"),
    ]


def test_q3_is_the_residual_correlation_over_users_who_answered_both(lsat7: Responses) -> None:
    cal = calibrate(lsat7, "2PL", quadrature=mirt_grid(), covariance="block-diagonal")
    matrix = lsat7.correct_counts.toarray().astype(float)
    matrix[:300, 0] = np.nan
    sparse = Responses.from_matrix(matrix, item_ids=lsat7.item_ids)
    theta = cal.abilities.theta
    q3 = yen_q3(sparse, cal.items, theta)
    residual = matrix - probability_correct(theta[:, None], cal.items.a, cal.items.b, cal.items.c)
    both = ~np.isnan(residual[:, 0])
    assert q3[0, 1] == pytest.approx(np.corrcoef(residual[both, 0], residual[both, 1])[0, 1])
    assert q3[2, 3] == pytest.approx(np.corrcoef(residual[:, 2], residual[:, 3])[0, 1])
    np.testing.assert_allclose(q3, q3.T)


def test_a_planted_dependent_pair_stands_out() -> None:
    rng = np.random.default_rng(21)
    items = simulate_items(12, "2PL", seed=21)
    theta = rng.standard_normal(3000)
    matrix = (rng.random((3000, 12)) < probability_correct(theta[:, None], items.a, items.b)).astype(float)
    copy = rng.random(3000) < 0.5
    matrix[copy, 1] = matrix[copy, 0]  # item 2 copies item 1 for half the users
    data = Responses.from_matrix(matrix, item_ids=items.item_id)
    cal = calibrate(data, "2PL", covariance="block-diagonal")
    ld = ld_x2(data, cal.items)
    assert dependent_pairs(ld.x2, 10.0, ld.item_id)[0][:2] == (items.item_id[0], items.item_id[1])
    q3 = yen_q3(data, cal.items, cal.abilities.theta)
    off = q3[np.triu_indices(12, k=1)]
    # the 2PL absorbs part of the copying into larger slopes: Q3* = Q3 − mean Q3 is 0.13 here
    assert dependent_pairs(q3 - off.mean(), 0.1)[0][:2] == (0, 1)


@pytest.mark.parametrize("repeats", [False, True])
def test_one_pass_gives_the_same_ld_x2_and_q3(repeats: bool) -> None:
    rng = np.random.default_rng(5)
    users, items = rng.integers(0, 400, 6000), rng.integers(0, 15, 6000)
    if not repeats:
        _, first = np.unique(users * 15 + items, return_index=True)
        users, items = users[first], items[first]
    data = Responses.from_long(users, items, rng.integers(0, 2, users.size))
    assert bool(np.any(data.pairs.n_total > 1)) is repeats
    cal = calibrate(data, "2PL", covariance="block-diagonal")
    theta = cal.abilities.theta
    p = probability_correct(
        theta[data.pairs.user], *(v[data.pairs.item] for v in (cal.items.a, cal.items.b, cal.items.c))
    )
    ld, q3 = local_dependence_at(data, cal.items, p)
    separate = ld_x2(data, cal.items)
    np.testing.assert_array_equal(ld.x2, separate.x2)
    np.testing.assert_array_equal(ld.n_pairs, separate.n_pairs)
    np.testing.assert_allclose(q3, yen_q3(data, cal.items, theta), rtol=1e-12)
