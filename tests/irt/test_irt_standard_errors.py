"""Block-diagonal item information (``standard_errors.observed_item_information``): the per-column
pass equals the diagonal blocks of the exact sparse-Gram Louis information, with repeated answers
(a pair answered right and wrong, or right twice), and its log-likelihood is the marginal one."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from dreamseed.irt import Priors, Responses, simulate_responses
from dreamseed.irt import standard_errors as standard_errors_module
from dreamseed.irt.covariance import CovarianceProblem, raw_information
from dreamseed.irt.estep import log_likelihood_by_user
from dreamseed.irt.item_model import ItemModel, stacked_log_table
from dreamseed.irt.mstep import ItemArrays
from dreamseed.irt.quadrature import QuadratureGrid
from dreamseed.irt.standard_errors import observed_item_information

GRID = QuadratureGrid.normal(41, 6.0)


def _with_repeats(responses: Responses, seed: int) -> Responses:
    """A second answer to a fifth of the pairs: half of them right, half wrong."""
    pairs, j = responses.pairs, responses.n_items
    rng = np.random.default_rng(seed)
    pick = rng.random(pairs.user.size) < 0.2
    right = rng.random(int(pick.sum())) < 0.5
    columns = np.where(right, pairs.item[pick], pairs.item[pick] + j)
    extra = sp.csr_matrix(
        (np.ones(columns.size, np.float32), (pairs.user[pick], columns)), shape=responses.counts.shape
    )
    counts = sp.csr_matrix(responses.counts + extra)
    counts.sort_indices()
    return Responses(responses.user_ids, responses.item_ids, counts)


def _items(model: str, seed: int) -> tuple[Responses, ItemArrays]:
    sim = simulate_responses(1_500, 12, 0.4, model, seed=seed)
    truth = sim.items
    gamma = np.where(truth.c > 0, np.log(np.maximum(truth.c, 1e-300) / (1 - truth.c)), -np.inf)
    return _with_repeats(sim.responses, seed), ItemArrays(truth.a, -truth.a * truth.b, gamma)


@pytest.mark.parametrize("model", ["2PL", "3PL"])
def test_column_pass_equals_the_exact_louis_diagonal_blocks(model: str) -> None:
    data, items = _items(model, 11)
    kind = ItemModel.named(model)
    k, j = kind.n_params, data.n_items
    assert data.counts.data.max() == 2  # repeats present
    result = observed_item_information(data.counts, items, GRID.points, GRID.log_weights, k, n_threads=1)
    problem = CovarianceProblem(
        data.counts, data.pairs, items, GRID.points, 0.0, 1.0, kind, Priors(c=None, a=None, b=None),
        np.ones(j, dtype=bool), False, False,
    )  # fmt: skip
    exact = raw_information(problem, full=False)
    blocks = np.stack([exact[i * k : (i + 1) * k, i * k : (i + 1) * k] for i in range(j)])
    np.testing.assert_allclose(result.information, blocks, rtol=1e-9, atol=1e-9)
    table = stacked_log_table(items.a, items.d, items.c, GRID.points)
    loglik = float(np.sum(log_likelihood_by_user(data.counts, table, GRID.log_weights)))
    assert result.loglik == pytest.approx(loglik, rel=1e-13)


def test_blocks_and_threads_give_the_same_sums(monkeypatch: pytest.MonkeyPatch) -> None:
    data, items = _items("2PL", 12)
    whole = observed_item_information(data.counts, items, GRID.points, GRID.log_weights, 2, n_threads=1)
    monkeypatch.setattr(standard_errors_module, "SE_BLOCK_CELLS", 200 * 41)  # 8 blocks of users
    split = observed_item_information(data.counts, items, GRID.points, GRID.log_weights, 2, n_threads=2)
    np.testing.assert_allclose(split.information, whole.information, rtol=1e-12)
    assert split.loglik == pytest.approx(whole.loglik, rel=1e-13)
