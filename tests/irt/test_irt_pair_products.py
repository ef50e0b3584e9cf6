"""Item-by-item cross products over dense blocks of users (``irt/pair_products.py``): the same
numbers as the dense (N, J) matrices' X'Y whatever the block size, counts exact in float32."""

from __future__ import annotations

import numpy as np
import pytest

from dreamseed.irt import Responses, pair_products
from dreamseed.irt.pair_products import PairColumn, cross_products


@pytest.fixture(scope="module")
def repeated() -> Responses:
    """300 users × 17 items, about 60 % of cells seen, some answered twice or three times."""
    rng = np.random.default_rng(4)
    users, items = rng.integers(0, 300, 4000), rng.integers(0, 17, 4000)
    return Responses.from_long(users, items, rng.integers(0, 2, 4000))


def _dense(responses: Responses, values: np.ndarray) -> np.ndarray:
    matrix = np.zeros((responses.n_users, responses.n_items))
    matrix[responses.pairs.user, responses.pairs.item] = values
    return matrix


@pytest.mark.parametrize("block_cells", [17, 17 * 7, 1 << 21])
def test_cross_products_equal_the_dense_products(
    repeated: Responses, block_cells: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pair_products, "BLOCK_CELLS", block_cells)
    pairs = repeated.pairs
    residual = pairs.n_correct - 0.37 * pairs.n_total
    columns = [PairColumn(pairs.n_correct, integer=True), PairColumn(pairs.n_total, integer=True),
               PairColumn(residual)]  # fmt: skip
    products = [(0, 0), (0, 1), (1, 1), (2, 1), (2, 2)]
    got = cross_products(pairs, repeated.n_users, repeated.n_items, columns, products)
    dense = [_dense(repeated, column.values) for column in columns]
    for (a, b), matrix in zip(products, got, strict=True):
        expected = dense[a].T @ dense[b]
        if max(a, b) < 2:
            np.testing.assert_array_equal(matrix, expected)  # counts: exact (float32 blocks)
        else:
            np.testing.assert_allclose(matrix, expected, rtol=1e-12, atol=1e-12)
        assert matrix.dtype == np.float64
        assert matrix.shape == (17, 17)


def test_large_counts_fall_back_to_float64() -> None:
    """Counts whose block sums would pass 2²⁴ are multiplied in float64 (still exact)."""
    users = np.repeat(np.arange(3), 5000)
    data = Responses.from_long(users, np.zeros(users.size, dtype=int), np.ones(users.size))
    pairs = data.pairs
    total = PairColumn(pairs.n_total, integer=True)
    (gram,) = cross_products(pairs, data.n_users, data.n_items, [total], [(0, 0)])
    assert gram[0, 0] == 3 * 5000**2
