"""Full-information standard errors against R mirt's pinned values and a numerical Hessian.

Pinned numbers from github.com/philchalmers/mirt tests/testthat:
- test-15-IRTpars.R: LSAT7 Rasch d = (1.8680155, 0.7908857, 1.4607798, 0.5214175, 1.9927099) and
  SE(d1) = 0.100416; LSAT7 3PL SE(d1) = 0.1345818, SE(b1) = 0.2600573 (tolerance 1e-4 there; we
  pin 1% for the SEs and 1e-3 for d: our 61-point grid gives d within 4e-5);
- test-01-mirtOne.R: LSAT7 2PL 95% Wald CIs by SE.type = 'Richardson' (a numerical Hessian;
  tolerance 1e-2), and the common-slope 1PL CI of a (SE.type = 'crossprod').
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from tests.irt.test_irt_lsat import LSAT7, expand

from dreamseed.irt import Priors, Responses, calibrate, marginal_loglik, mirt_grid
from dreamseed.irt.calibration import Calibration, CovarianceMethod, Model
from dreamseed.irt.parameters import ItemParameters
from dreamseed.irt.quadrature import QuadratureGrid

# LSAT7 2PL, mirt SE.type = 'Richardson': (lower, upper) of a and d per item
RICHARDSON_CI = [
    ((0.6406, 1.3354), (1.5984, 2.1138)),
    ((0.7501, 1.4119), (0.6291, 0.9869)),
    ((1.0779, 2.334), (1.4036, 2.205)),
    ((0.5022, 1.028), (0.3392, 0.6328)),
    ((0.4395, 1.032), (1.6302, 2.0787)),
]


@pytest.fixture(scope="module")
def lsat7() -> Responses:
    return expand(LSAT7)


def _fit(data: Responses, model: Model, covariance: CovarianceMethod = "full") -> Calibration:
    return calibrate(data, model, quadrature=mirt_grid(), priors=Priors(c=None), covariance=covariance)


def test_rasch_matches_mirt_estimates_and_se(lsat7: Responses) -> None:
    cal = _fit(lsat7, "Rasch")
    np.testing.assert_allclose(cal.items.a, 1.0)
    np.testing.assert_allclose(
        cal.items.d, [1.8680155, 0.7908857, 1.4607798, 0.5214175, 1.9927099], atol=1e-3
    )
    assert cal.items.se_b[0] == pytest.approx(0.100416, rel=0.01)
    assert cal.population_sd > 1.0
    assert cal.n_parameters == 6
    assert cal.covariance is not None
    assert cal.covariance.names[-1] == "log_sd"


def test_1pl_common_slope_se_matches_mirt(lsat7: Responses) -> None:
    cal = _fit(lsat7, "1PL")
    assert cal.items.se_a[0] == pytest.approx((1.138 - 0.885) / (2 * 1.959964), rel=0.02)
    # the common-slope 1PL and the Rasch model are reparametrisations: the same SE of d
    assert cal.covariance is not None
    assert cal.covariance.standard_errors[1] == pytest.approx(0.100416, rel=0.01)


def test_2pl_se_matches_mirt_numerical_hessian(lsat7: Responses) -> None:
    cal = _fit(lsat7, "2PL")
    assert cal.covariance is not None
    lower, upper = cal.covariance.wald_intervals(0.95)
    expected = np.array(RICHARDSON_CI).reshape(-1, 2)
    np.testing.assert_allclose(lower, expected[:, 0], atol=0.01)
    np.testing.assert_allclose(upper, expected[:, 1], atol=0.01)
    mirt_se = (expected[:, 1] - expected[:, 0]) / (2 * 1.959964)
    np.testing.assert_allclose(cal.covariance.standard_errors, mirt_se, rtol=0.01)
    assert cal.covariance.condition_number == pytest.approx(30.24068, rel=0.01)


def test_3pl_se_matches_mirt(lsat7: Responses) -> None:
    cal = _fit(lsat7, "3PL")
    assert cal.covariance is not None
    assert cal.covariance.standard_errors[1] == pytest.approx(0.1345818, rel=0.01)
    assert cal.items.se_b[0] == pytest.approx(0.2600573, rel=0.01)


def test_block_diagonal_is_a_smaller_approximation(lsat7: Responses) -> None:
    full = _fit(lsat7, "2PL")
    block = _fit(lsat7, "2PL", covariance="block-diagonal")
    assert block.covariance is None
    assert block.settings["standard_errors"] == "block-diagonal"
    assert np.all(block.items.se_a < full.items.se_a)


def _numerical_hessian(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    n = x.size
    hessian = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            e_i, e_j = np.eye(n)[i] * h, np.eye(n)[j] * h
            value = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)) / (4 * h * h)
            hessian[i, j] = hessian[j, i] = value
    return hessian


def test_full_information_equals_numerical_hessian_on_sparse_data() -> None:
    rng = np.random.default_rng(5)
    n, j = 400, 6
    theta = rng.normal(size=n)
    a, d = rng.uniform(0.8, 1.6, j), rng.normal(0, 0.8, j)
    answers = (rng.random((n, j)) < 1 / (1 + np.exp(-(a * theta[:, None] + d)))).astype(float)
    answers[rng.random((n, j)) < 0.3] = np.nan
    data = Responses.from_matrix(answers)
    anchors = ItemParameters.from_arrays([data.item_ids[0]], [a[0]], [-d[0] / a[0]])
    cal = calibrate(data, "2PL", quadrature=mirt_grid(), fixed_items=anchors, tol=1e-7, loglik_tol=1e-12)
    assert cal.covariance is not None
    x = cal.covariance.estimates
    ids = data.item_ids[1:]

    def loglik(v: np.ndarray) -> float:
        slopes, intercepts = v[0:10:2], v[1:10:2]
        items = ItemParameters.from_arrays(
            np.concatenate([[data.item_ids[0]], ids]),
            np.concatenate([[a[0]], slopes]),
            np.concatenate([[-d[0] / a[0]], -intercepts / slopes]),
        )
        grid = QuadratureGrid.on_points(mirt_grid().points, v[10], float(np.exp(v[11])))
        return marginal_loglik(data, items, grid)

    numerical = np.linalg.inv(-_numerical_hessian(loglik, x))
    np.testing.assert_allclose(cal.covariance.standard_errors, np.sqrt(np.diag(numerical)), rtol=0.01)


@pytest.mark.parametrize(
    ("model", "rtol", "median"),
    [("2PL", 5e-3, 5e-4), ("3PL", 0.05, 2e-3), ("1PL", 1e-2, 5e-4), ("Rasch", 1e-2, 5e-4)],
)
def test_polynomial_cross_terms_agree_with_the_exact_sums(
    model: Model, rtol: float, median: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The posterior-polynomial form (used above the exact form's budget) against the exact sums,
    on sparse data with anchors (so the population mean and log SD are parameters too). The 3PL's
    weakly identified items (1,500 users, SE of logit c up to 5) are the worst case."""
    from dreamseed.irt import covariance, simulate_responses

    sim = simulate_responses(1500, 30, 0.4, model, seed=3)
    anchors = sim.items.take(np.arange(3))
    exact = calibrate(sim.responses, model, fixed_items=anchors, covariance="full")
    monkeypatch.setattr(covariance, "FULL_INFORMATION_BUDGET", 0.0)
    fast = calibrate(sim.responses, model, fixed_items=anchors, covariance="full")
    assert exact.covariance is not None
    assert fast.covariance is not None
    assert (exact.covariance.cross_terms, fast.covariance.cross_terms) == ("exact", "polynomial")
    assert fast.covariance.names == exact.covariance.names
    relative = fast.covariance.standard_errors / exact.covariance.standard_errors - 1
    assert np.abs(relative).max() < rtol
    assert np.median(np.abs(relative)) < median
    assert fast.covariance.condition_number == pytest.approx(exact.covariance.condition_number, rel=3 * rtol)


def test_auto_keeps_full_information_within_the_polynomial_budget() -> None:
    from dreamseed.irt import covariance, simulate_responses

    sim = simulate_responses(4000, 100, 0.25, "2PL", seed=4)
    data = sim.responses
    assert (
        covariance.full_information_cost(data.pairs, data.n_users, 41, 2) > covariance.FULL_INFORMATION_BUDGET
    )
    assert covariance.auto_method(data, 41, 2) == "full"
    assert covariance.polynomial_cost(100_000, 500, 2) > covariance.POLYNOMIAL_BUDGET
