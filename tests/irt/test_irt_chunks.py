"""The chunked paths for large data (E-step, log-likelihood, EAP, block-diagonal SEs) give the
same numbers as one pass over all users."""

from __future__ import annotations

import numpy as np
import pytest

from dreamseed.irt import calibrate, score, simulate_responses
from dreamseed.irt import standard_errors as standard_errors_module
from dreamseed.irt.estep import EStepper, log_likelihood_by_user, posterior_by_user
from dreamseed.irt.item_model import stacked_log_table
from dreamseed.irt.quadrature import QuadratureGrid
from dreamseed.irt.simulate import SimulatedData


@pytest.fixture(scope="module")
def data() -> SimulatedData:
    # 60,000 users: more than two E-step chunks of 41 points (25,575 users each) and 4 EAP chunks
    return simulate_responses(60_000, 20, 0.3, "2PL", seed=5)


def test_chunked_estep_matches_one_float64_pass(data: SimulatedData) -> None:
    items, grid = data.items, QuadratureGrid.normal(41, 6.0)
    table = stacked_log_table(items.a, -items.a * items.b, items.c, grid.points)
    counts = data.responses.counts
    stepper = EStepper(counts, 2, grid.points.size)
    try:
        step = stepper(table, grid.log_weights)
    finally:
        stepper.close()
    assert stepper.dtype == np.float32
    work = np.asarray(counts.astype(np.float64) @ table) + grid.log_weights
    peak = work.max(axis=1, keepdims=True)
    posterior = np.exp(work - peak)
    total = posterior.sum(axis=1, keepdims=True)
    expected = np.asarray(counts.T.astype(np.float64) @ (posterior / total))
    assert step.loglik == pytest.approx(float(np.sum(peak) + np.sum(np.log(total))), rel=1e-6)
    np.testing.assert_allclose(step.right, expected[:20], rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(step.wrong, expected[20:], rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(step.mass, (posterior / total).sum(axis=0), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(
        posterior_by_user(counts, table, grid.log_weights), posterior / total, rtol=1e-12
    )
    np.testing.assert_allclose(
        log_likelihood_by_user(counts, table, grid.log_weights), (peak + np.log(total)).ravel(), rtol=1e-12
    )


def test_chunked_eap_matches_one_pass(data: SimulatedData) -> None:
    abilities = score(data.responses, data.items)
    grid = QuadratureGrid.normal(81, 4.0)
    table = stacked_log_table(data.items.a, -data.items.a * data.items.b, data.items.c, grid.points)
    work = np.asarray(data.responses.counts.astype(np.float64) @ table) + grid.log_weights
    posterior = np.exp(work - work.max(axis=1, keepdims=True))
    posterior /= posterior.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(abilities.theta, posterior @ grid.points, rtol=1e-10, atol=1e-12)


def test_block_diagonal_errors_summed_over_user_chunks_are_the_same(
    data: SimulatedData, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = calibrate(data.responses, "2PL", covariance="block-diagonal")
    monkeypatch.setattr(standard_errors_module, "SE_BLOCK_CELLS", 7_500 * 41)  # 8 blocks of users
    chunked = calibrate(data.responses, "2PL", covariance="block-diagonal")
    np.testing.assert_allclose(chunked.items.a, whole.items.a, rtol=0, atol=0)
    np.testing.assert_allclose(
        chunked.items.se_a, whole.items.se_a, rtol=1e-6
    )  # float32 products summed in another order
    np.testing.assert_allclose(chunked.items.se_b, whole.items.se_b, rtol=1e-6)
