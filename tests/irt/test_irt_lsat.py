"""Classic LSAT data against published R results.

Pattern counts: LSAT7 from Bock & Lieberman (1970) / Bock & Aitkin (1981); LSAT6 from Thissen
(1982), both 1000 examinees × 5 items, as shipped with R mirt (``expand.table(LSAT6/LSAT7)``) and
R ltm (``LSAT``).

Reference numbers (R mirt defaults: 61 quadrature points on [−6, 6], EM TOL 1e-4; we use the same
grid):
- mirt's own test suite, github.com/philchalmers/mirt tests/testthat/test-01-mirtOne.R (LSAT7 2PL
  coefficients, LSAT7 EAP scores of the first six response patterns, LSAT7 2PL S-X2 item fit,
  LSAT7 1PL with one common slope) and tests/testthat/test-15-IRTpars.R (LSAT7 3PL d and b,
  the g of item 2);
- mirt's reference page for LSAT6 (philchalmers.github.io/mirt, ``LSAT6`` examples, mirt 1.47.5):
  1PL with a common slope (a = 0.755, d, log-likelihood −2466.938, S-X2 and its df);
- LSAT6 2PL: log-likelihood −2466.653 (mirt test-01-mirtOne.R, QMCEM fit) and the ltm estimates
  printed by ``summary(ltm(LSAT ~ z1, IRT.param = TRUE))`` (Rizopoulos 2006; 21-point
  Gauss–Hermite), the same maximum to the stated precision.
"""

from __future__ import annotations

import numpy as np
import pytest

from dreamseed.irt import (
    Calibration,
    Priors,
    Responses,
    calibrate,
    item_fit,
    marginal_loglik,
    mirt_grid,
    score,
)

LSAT7 = {
    "00000": 12, "00001": 19, "00010": 1, "00011": 7, "00100": 3, "00101": 19, "00110": 3, "00111": 17,
    "01000": 10, "01001": 5, "01010": 3, "01011": 7, "01100": 7, "01101": 23, "01110": 8, "01111": 28,
    "10000": 7, "10001": 39, "10010": 11, "10011": 34, "10100": 14, "10101": 51, "10110": 15, "10111": 90,
    "11000": 6, "11001": 25, "11010": 7, "11011": 35, "11100": 18, "11101": 136, "11110": 32, "11111": 308,
}  # fmt: skip
LSAT6 = {
    "00000": 3, "00001": 6, "00010": 2, "00011": 11, "00100": 1, "00101": 1, "00110": 3, "00111": 4,
    "01000": 1, "01001": 8, "01010": 0, "01011": 16, "01100": 0, "01101": 3, "01110": 2, "01111": 15,
    "10000": 10, "10001": 29, "10010": 14, "10011": 81, "10100": 3, "10101": 28, "10110": 15, "10111": 80,
    "11000": 16, "11001": 56, "11010": 21, "11011": 173, "11100": 11, "11101": 61, "11110": 28, "11111": 298,
}  # fmt: skip


def expand(table: dict[str, int]) -> Responses:
    rows = [[int(ch) for ch in pattern] for pattern, n in table.items() for _ in range(n)]
    return Responses.from_matrix(np.array(rows), item_ids=[f"Item_{k}" for k in range(1, 6)])


@pytest.fixture(scope="module")
def lsat7() -> Responses:
    return expand(LSAT7)


@pytest.fixture(scope="module")
def lsat6() -> Responses:
    return expand(LSAT6)


def fit(data: Responses, model: str) -> Calibration:
    return calibrate(data, model, quadrature=mirt_grid(), priors=Priors(c=None))  # type: ignore[arg-type]


def test_the_pattern_tables_hold_1000_examinees() -> None:
    assert sum(LSAT7.values()) == sum(LSAT6.values()) == 1000


def test_lsat7_2pl_matches_mirt(lsat7: Responses) -> None:
    cal = fit(lsat7, "2PL")
    assert cal.converged
    np.testing.assert_allclose(cal.items.a, [0.988, 1.081, 1.706, 0.7651, 0.7358], atol=0.01)
    np.testing.assert_allclose(cal.items.d, [1.8561, 0.808, 1.8043, 0.486, 1.8545], atol=0.01)
    assert cal.loglik == pytest.approx(-2658.805, abs=0.01)
    assert cal.n_parameters == 10
    assert cal.aic == pytest.approx(-2 * cal.loglik + 20)


def test_lsat7_eap_scores_match_mirt(lsat7: Responses) -> None:
    cal = fit(lsat7, "2PL")
    patterns = ["00000", "00001", "00010", "00011", "00100", "00101"]
    data = Responses.from_matrix(
        np.array([[int(ch) for ch in p] for p in patterns]), item_ids=[f"Item_{k}" for k in range(1, 6)]
    )
    eap = score(data, cal.items, "EAP", grid=mirt_grid())
    expected = [-1.8665957, -1.5266920, -1.5134024, -1.1852276, -1.0946830, -0.7666992]
    np.testing.assert_allclose(eap.theta, expected, atol=0.01)
    # the default scoring grid of the original service (81 points on [−4, 4]) agrees too
    np.testing.assert_allclose(score(data, cal.items).theta, expected, atol=0.01)


def test_lsat7_3pl_matches_mirt(lsat7: Responses) -> None:
    cal = fit(lsat7, "3PL")
    assert cal.converged
    published_b = [-1.85291884, -0.04877029, -1.06840017, -0.65462572, -2.43551721]
    published_d = [1.86562047, 0.09404091, 1.78051762, 0.48189021, 1.86845282]
    np.testing.assert_allclose(cal.items.b, published_b, atol=0.01)
    np.testing.assert_allclose(np.delete(cal.items.d, 1), np.delete(published_d, 1), atol=0.01)
    assert cal.items.c[1] == pytest.approx(0.2950545, abs=0.01)
    # Item 2 lies on a flat ridge of the 3PL likelihood: mirt stopped (TOL 1e-4) at d = 0.094, we
    # at 0.082, and our point has the higher likelihood. mirt's own a's are −d/b; its other g's
    # are 0 to the printed precision.
    assert cal.items.d[1] == pytest.approx(published_d[1], abs=0.015)
    mirt_items = cal.items.from_arrays(
        cal.items.item_id, -np.array(published_d) / published_b, published_b, [0, 0.2950545, 0, 0, 0]
    )
    assert cal.loglik >= marginal_loglik(lsat7, mirt_items, mirt_grid())


def test_lsat7_1pl_common_slope_matches_mirt(lsat7: Responses) -> None:
    cal = fit(lsat7, "1PL")
    np.testing.assert_allclose(cal.items.a, 1.011, atol=0.01)
    np.testing.assert_allclose(cal.items.d, [1.868, 0.791, 1.461, 0.521, 1.993], atol=0.01)


def test_lsat7_s_x2_matches_mirt(lsat7: Responses) -> None:
    cal = fit(lsat7, "2PL")
    result = item_fit(lsat7, cal.items, cal.abilities, mirt_grid(), model="2PL")
    assert result.s_x2 is not None
    assert result.s_x2_df is not None
    np.testing.assert_allclose(result.s_x2, [4.749440, 14.451071, 1.270381, 5.237400, 0.941125], atol=0.05)
    np.testing.assert_array_equal(result.s_x2_df, [2, 2, 2, 2, 2])


def test_lsat6_1pl_matches_mirt(lsat6: Responses) -> None:
    cal = fit(lsat6, "1PL")
    np.testing.assert_allclose(cal.items.a, 0.755, atol=0.01)
    np.testing.assert_allclose(cal.items.d, [2.730, 0.999, 0.240, 1.307, 2.100], atol=0.01)
    assert cal.loglik == pytest.approx(-2466.938, abs=0.01)
    assert cal.n_parameters == 6
    assert cal.bic == pytest.approx(4975.322, abs=0.02)
    result = item_fit(lsat6, cal.items, cal.abilities, mirt_grid(), model="1PL")
    assert result.s_x2 is not None
    np.testing.assert_allclose(result.s_x2, [0.436, 1.576, 0.871, 0.190, 0.190], atol=0.02)
    np.testing.assert_array_equal(result.s_x2_df, [2, 2, 1, 2, 2])


def test_lsat6_2pl_matches_published(lsat6: Responses) -> None:
    cal = fit(lsat6, "2PL")
    assert cal.loglik == pytest.approx(-2466.653, abs=0.01)
    np.testing.assert_allclose(cal.items.b, [-3.3597, -1.3696, -0.2799, -1.8659, -3.1236], atol=0.01)
    np.testing.assert_allclose(cal.items.a, [0.8254, 0.7229, 0.8905, 0.6886, 0.6575], atol=0.01)
