"""Item standard errors from the observed information of the marginal likelihood (Louis 1982).

For item j with parameters η_j = (a, d[, γ]), Louis' identity gives the observed information

    I_j = E[−∂²ℓ_c/∂η∂ηᵀ] − Σ_p E[u_pj u_pjᵀ] + Σ_p E[u_pj] E[u_pj]ᵀ

where ℓ_c is the complete-data log-likelihood, u_pj the complete-data score of user p's answers
to item j, and expectations are over each user's posterior on the quadrature grid. The first two
terms reduce to expected counts (sparse products). The last needs each observed pair's posterior
expectation of the score, E_p[u_pj] = n_right·π_p g1_j + n_wrong·π_p g0_j with g1_j, g0_j the
item's (Q, K) score tables: it is computed column by column of the answers (the users who
answered item j right, then wrong: their posterior rows gathered, times the item's table), i.e.
about nnz × Q × K multiply-adds and no users × items product. This is the item's diagonal block
of the full observed information, i.e. the information about η_j with every other item held at
its estimate; standard errors from it ignore between-item covariance and are slightly smaller
than full-matrix ones (for the 1PL the shared slope is handled jointly through the arrow-shaped
block of (slope, intercepts)). Prior curvature is added for Bayes-modal items. SEs of (a, b, c)
follow by the delta method.

The same pass over the users yields the marginal log-likelihood at the estimates (float64), so
a calibration computes its log-likelihood and its block-diagonal SEs from one set of posteriors.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from dreamseed.irt.estep import FLOAT32_MIN_NNZ
from dreamseed.irt.item_model import ItemModel, probability_derivatives, stacked_log_table
from dreamseed.irt.mstep import ItemArrays, common_slope_prior_terms, prior_terms
from dreamseed.irt.parameters import Priors
from dreamseed.irt.responses import row_blocks

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Users × grid points of one block of the SE pass (its float64 posteriors: 32 MB); blocks are
#: shared by the threads, so at most ``n_threads`` blocks' posteriors exist at once.
SE_BLOCK_CELLS = 1 << 22
_SE_CAP = 1e4


@dataclass(frozen=True, eq=False)
class ItemInformation:
    """Louis observed-information block of each item (J, K, K), priors excluded, and the marginal
    log-likelihood (float64, summed over users) at the same parameters."""

    information: FloatArray
    loglik: float


def item_standard_errors(
    counts: sp.csr_matrix,
    items: ItemArrays,
    points: FloatArray,
    log_weights: FloatArray,
    model: ItemModel,
    priors: Priors,
    free: BoolArray,
    n_threads: int = 2,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(se_a, se_b, se_c), each shape (J,); 0 for items that are not free."""
    information = observed_item_information(counts, items, points, log_weights, model.n_params, n_threads)
    return standard_errors_from_information(information.information, items, model, priors, free)


def observed_item_information(
    counts: sp.csr_matrix,
    items: ItemArrays,
    points: FloatArray,
    log_weights: FloatArray,
    k: int,
    n_threads: int = 2,
) -> ItemInformation:
    """Louis observed-information block of each item (J, K, K), priors excluded, with the marginal
    log-likelihood; ``counts`` (N, 2J), grid ``points`` (Q,) with prior ``log_weights`` (Q,).

    Users are processed in blocks of ``SE_BLOCK_CELLS`` users × points by ``n_threads`` threads;
    the gathered posteriors and score tables are float32 on data of at least ``FLOAT32_MIN_NNZ``
    stored cells (every sum is accumulated in float64), float64 otherwise."""
    j = items.a.size
    table = stacked_log_table(items.a, items.d, items.c, points)
    deriv = probability_derivatives(items.a, items.d, items.c, points, k, second=True)
    g1 = deriv.gradient / deriv.p[..., None]
    g0 = -deriv.gradient / (1.0 - deriv.p)[..., None]
    dtype = np.float32 if counts.nnz >= FLOAT32_MIN_NNZ else np.float64
    scores = np.concatenate([g1, g0]).astype(dtype)  # (2J, Q, K): column c's score table
    n_threads = max(1, min(n_threads, counts.shape[0] // 5000))  # as the E-step: threads on 10⁴+ users
    per_thread = -(-counts.shape[0] // n_threads)  # so that every thread gets a block
    blocks = row_blocks(counts, max(1, min(SE_BLOCK_CELLS // max(points.size, 1), per_thread)))

    def run(block: sp.csr_matrix) -> _BlockSums:
        return _block_sums(block, table, log_weights, scores, dtype)

    threads = max(1, min(n_threads, len(blocks)))
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(run, blocks))
    else:
        parts = [run(block) for block in blocks]
    first, squared, cross, outer = (
        np.sum([getattr(part, name) for part in parts], axis=0)
        for name in ("first", "squared", "cross", "outer")
    )
    right, wrong = first[:j], first[j:]
    complete = np.einsum("jq,jqkl->jkl", -right / deriv.p + wrong / (1.0 - deriv.p), deriv.hessian)
    complete += np.einsum("jq,jqk,jql->jkl", right, g1, g1) + np.einsum("jq,jqk,jql->jkl", wrong, g0, g0)
    square = _square_from_sums(squared, cross, g1, g0)
    return ItemInformation(
        np.asarray(complete - square + outer, dtype=np.float64), float(sum(p.loglik for p in parts))
    )


@dataclass(frozen=True, eq=False)
class _BlockSums:
    """One block of users' sums: expected counts ``first`` and Σ π·n² ``squared`` (2J, Q),
    Σ π·n_right·n_wrong ``cross`` (J, Q), Σ E[u]E[u]ᵀ ``outer`` (J, K, K) and the log-likelihood."""

    first: FloatArray
    squared: FloatArray
    cross: FloatArray
    outer: FloatArray
    loglik: float


def _block_sums(
    block: sp.csr_matrix, table: FloatArray, log_weights: FloatArray, scores: npt.NDArray[Any], dtype: Any
) -> _BlockSums:
    j = table.shape[0] // 2
    work = np.asarray(block.astype(np.float64) @ table) + log_weights
    peak = work.max(axis=1, keepdims=True)
    work -= peak
    np.exp(work, out=work)
    total = work.sum(axis=1, keepdims=True)
    loglik = float(np.sum(peak) + np.sum(np.log(total)))
    work /= total  # the posteriors (c, Q)
    first = np.asarray(block.T @ work)  # CSC @ dense: streams the posteriors' rows in order
    if block.nnz == 0 or float(block.data.max()) <= 1.0:
        squared = first
    else:
        square_counts = sp.csr_matrix(
            (np.square(block.data, dtype=np.float64), block.indices, block.indptr), block.shape
        )
        squared = np.asarray(square_counts.T @ work)
    by_column = block.tocsc()
    by_column.sort_indices()
    outer, cross = _column_sums(by_column, work.astype(dtype, copy=False), scores, j)
    return _BlockSums(first, squared, cross, outer, loglik)


def _column_sums(
    by_column: sp.csc_matrix, posterior: npt.NDArray[Any], scores: npt.NDArray[Any], n_items: int
) -> tuple[FloatArray, FloatArray]:
    """Σ_p E_p[u_pj] E_p[u_pj]ᵀ per item (J, K, K) and Σ π·n_right·n_wrong (J, Q), item by item.

    The users who answered item j right (column j, counts r) and wrong (column J + j, counts w):
    their posterior rows gathered, times the item's score tables, give e1 = r·π g1_j and e0 =
    w·π g0_j; a user in both columns (a repeated answer) adds e1 e0ᵀ + e0 e1ᵀ.
    """
    k, n_points = scores.shape[-1], posterior.shape[1]
    outer, cross = np.zeros((n_items, k, k)), np.zeros((n_items, n_points))
    indptr, indices, data = by_column.indptr, by_column.indices, by_column.data
    last_item = np.full(posterior.shape[0], -1, dtype=np.int32)  # the last item each user answered right
    for item in range(n_items):
        expected = []
        for column in (item, n_items + item):
            lo, hi = indptr[column], indptr[column + 1]
            rows = np.take(posterior, indices[lo:hi], axis=0)
            score = (rows @ scores[column]).astype(np.float64) * data[lo:hi, None]  # (n, K)
            outer[item] += score.T @ score
            expected.append(score)
        right_users = indices[indptr[item] : indptr[item + 1]]
        wrong_users = indices[indptr[n_items + item] : indptr[n_items + item + 1]]
        last_item[right_users] = item
        if wrong_users.size and np.any(last_item[wrong_users] == item):
            at = np.searchsorted(right_users, wrong_users).clip(max=right_users.size - 1)
            both = right_users[at] == wrong_users
            if both.any():
                mixed = expected[0][at[both]].T @ expected[1][both]
                outer[item] += mixed + mixed.T
                weights = np.asarray(data[indptr[item] + at[both]], dtype=np.float64)
                weights *= data[indptr[n_items + item] : indptr[n_items + item + 1]][both]
                cross[item] = weights @ np.take(posterior, wrong_users[both], axis=0)
    return outer, cross


def standard_errors_from_information(
    information: FloatArray, items: ItemArrays, model: ItemModel, priors: Priors, free: BoolArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(se_a, se_b, se_c) from the observed item blocks (J, K, K) with the priors' curvature added."""
    k = model.n_params
    information = information.copy()
    prior_gradient, prior_information = prior_terms(items, priors, k, per_item_slope=model.per_item_slope)
    del prior_gradient
    information += prior_information
    if model.common_slope:
        covariance = _common_slope_covariance(information, free, items, priors)
    elif model.fixed_slope:
        covariance = np.zeros_like(information)
        covariance[:, 1, 1] = 1.0 / np.maximum(information[:, 1, 1], 1e-10)
    else:
        covariance = _inverse(information)
    return irt_standard_errors(covariance, items, free, k)


def score_square(counts: sp.csr_matrix, posterior: FloatArray, g1: FloatArray, g0: FloatArray) -> FloatArray:
    """Σ_p E_p[u_pj u_pjᵀ] of each item's complete-data score, (J, K, K) (sparse products)."""
    j = g1.shape[0]
    squared = np.asarray(counts.multiply(counts).T @ posterior)
    cross = np.asarray(counts[:, :j].multiply(counts[:, j:]).T @ posterior)
    return _square_from_sums(squared, cross, g1, g0)


def _square_from_sums(squared: FloatArray, cross: FloatArray, g1: FloatArray, g0: FloatArray) -> FloatArray:
    """Σ_p E_p[u uᵀ] per item (J, K, K) from Σ π·n² (2J, Q) and Σ π·n_right·n_wrong (J, Q)."""
    j = g1.shape[0]
    mixed = np.einsum("jqk,jql->jkl", cross[:, :, None] * g1, g0)
    square = np.einsum("jq,jqk,jql->jkl", squared[:j], g1, g1)
    square += np.einsum("jq,jqk,jql->jkl", squared[j:], g0, g0)
    square += mixed + np.swapaxes(mixed, -1, -2)
    return np.asarray(square, dtype=np.float64)


def _inverse(information: FloatArray) -> FloatArray:
    """Inverse of each symmetric block, with eigenvalues floored so results stay finite."""
    sym = 0.5 * (information + np.swapaxes(information, -1, -2))
    values, vectors = np.linalg.eigh(sym)
    floor = np.maximum(values.max(axis=-1, keepdims=True), 1.0) * 1e-10
    values = np.maximum(values, floor)
    return np.asarray(np.einsum("jkm,jm,jlm->jkl", vectors, 1.0 / values, vectors), dtype=np.float64)


def _common_slope_covariance(
    information: FloatArray, free: BoolArray, items: ItemArrays, priors: Priors
) -> FloatArray:
    """Covariances of (common a, d_j) per free item from the arrow-shaped information."""
    h_aa = information[free, 0, 0].sum() + common_slope_prior_terms(float(items.a[free][0]), priors)[1]
    h_ad = information[:, 0, 1]
    h_dd = np.maximum(information[:, 1, 1], 1e-10)
    schur = max(h_aa - np.sum((h_ad**2 / h_dd)[free]), 1e-10)
    covariance = np.zeros_like(information)
    covariance[:, 0, 0] = 1.0 / schur
    covariance[:, 0, 1] = covariance[:, 1, 0] = -(h_ad / h_dd) / schur
    covariance[:, 1, 1] = 1.0 / h_dd + (h_ad / h_dd) ** 2 / schur
    return covariance


def irt_standard_errors(
    covariance: FloatArray, items: ItemArrays, free: BoolArray, k: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(se_a, se_b, se_c) by the delta method from each item's (K, K) covariance of (a, d[, γ])."""
    a = np.where(np.abs(items.a) < 1e-3, np.copysign(1e-3, items.a), items.a)
    jacobian_b = np.stack([items.d / a**2, -1.0 / a], axis=1)
    var_b = np.einsum("jk,jkl,jl->j", jacobian_b, covariance[:, :2, :2], jacobian_b)
    se_a = np.sqrt(np.maximum(covariance[:, 0, 0], 0.0))
    se_b = np.sqrt(np.maximum(var_b, 0.0))
    se_c = np.zeros_like(se_a)
    if k == 3:
        c = items.c
        se_c = c * (1 - c) * np.sqrt(np.maximum(covariance[:, 2, 2], 0.0))
    return tuple(np.where(free, np.minimum(se, _SE_CAP), 0.0) for se in (se_a, se_b, se_c))  # type: ignore[return-value]
