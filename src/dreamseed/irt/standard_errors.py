"""Item standard errors from the observed information of the marginal likelihood (Louis 1982).

For item j with parameters η_j = (a, d[, γ]), Louis' identity gives the observed information

    I_j = E[−∂²ℓ_c/∂η∂ηᵀ] − Σ_p E[u_pj u_pjᵀ] + Σ_p E[u_pj] E[u_pj]ᵀ

where ℓ_c is the complete-data log-likelihood, u_pj the complete-data score of user p's answers
to item j, and expectations are over each user's posterior on the quadrature grid. The first two
terms reduce to expected counts (sparse products); the last needs each observed pair's posterior
expectation of the score, computed as dense (users-chunk × items) products and read at the
observed pairs only. This is the item's diagonal block of the full observed information, i.e. the
information about η_j with every other item held at its estimate; standard errors from it ignore
between-item covariance and are slightly smaller than full-matrix ones (for the 1PL the shared
slope is handled jointly through the arrow-shaped block of (slope, intercepts)). Prior curvature
is added for Bayes-modal items. SEs of (a, b, c) follow by the delta method.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from dreamseed.irt.estep import posterior_by_user
from dreamseed.irt.item_model import ItemModel, probability_derivatives, stacked_log_table
from dreamseed.irt.mstep import ItemArrays, common_slope_prior_terms, prior_terms
from dreamseed.irt.parameters import Priors
from dreamseed.irt.responses import ResponsePairs

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_CHUNK = 8192
_SE_CAP = 1e4


def item_standard_errors(
    counts: sp.csr_matrix,
    pairs: ResponsePairs,
    items: ItemArrays,
    points: FloatArray,
    log_weights: FloatArray,
    model: ItemModel,
    priors: Priors,
    free: BoolArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(se_a, se_b, se_c), each shape (J,); 0 for items that are not free."""
    information = observed_item_information(counts, pairs, items, points, log_weights, model.n_params)
    return standard_errors_from_information(information, items, model, priors, free)


def observed_item_information(
    counts: sp.csr_matrix,
    pairs: ResponsePairs,
    items: ItemArrays,
    points: FloatArray,
    log_weights: FloatArray,
    k: int,
) -> FloatArray:
    """Louis observed-information block of each item (J, K, K), priors excluded: a sum over users,
    so it may be computed on chunks of users (their rows of ``counts`` and their ``pairs``) and added."""
    return _observed_information(counts, pairs, items, items.c, points, log_weights, k)


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


def _observed_information(
    counts: sp.csr_matrix,
    pairs: ResponsePairs,
    items: ItemArrays,
    c: FloatArray,
    points: FloatArray,
    log_weights: FloatArray,
    k: int,
) -> FloatArray:
    """Louis observed-information block of each item, shape (J, K, K)."""
    j = items.a.size
    table = stacked_log_table(items.a, items.d, c, points)
    posterior = posterior_by_user(counts, table, log_weights)
    first = np.asarray(counts.T @ posterior)
    right, wrong = first[:j], first[j:]
    deriv = probability_derivatives(items.a, items.d, c, points, k, second=True)
    g1 = deriv.gradient / deriv.p[..., None]
    g0 = -deriv.gradient / (1.0 - deriv.p)[..., None]
    outer1 = g1[..., :, None] * g1[..., None, :]
    outer0 = g0[..., :, None] * g0[..., None, :]
    complete = np.einsum("jq,jqkl->jkl", -right / deriv.p + wrong / (1.0 - deriv.p), deriv.hessian)
    complete += np.einsum("jq,jqkl->jkl", right, outer1) + np.einsum("jq,jqkl->jkl", wrong, outer0)
    return complete - within_item_score_covariance(counts, pairs, posterior, g1, g0)


def within_item_score_covariance(
    counts: sp.csr_matrix, pairs: ResponsePairs, posterior: FloatArray, g1: FloatArray, g0: FloatArray
) -> FloatArray:
    """Σ_p Cov_p(u_pj) of each item's complete-data score over the users' posteriors, (J, K, K).

    ``g1``/``g0`` (J, Q, K) are ∂ log P/∂η and ∂ log(1 − P)/∂η on the grid, ``posterior`` (N, Q).
    """
    j = g1.shape[0]
    return score_square(counts, posterior, g1, g0) - _expected_score_outer(posterior, pairs, g1, g0, j)


def score_square(counts: sp.csr_matrix, posterior: FloatArray, g1: FloatArray, g0: FloatArray) -> FloatArray:
    """Σ_p E_p[u_pj u_pjᵀ] of each item's complete-data score, (J, K, K) (sparse products)."""
    j = g1.shape[0]
    squared = np.asarray(counts.multiply(counts).T @ posterior)
    cross = np.asarray(counts[:, :j].multiply(counts[:, j:]).T @ posterior)
    outer1 = g1[..., :, None] * g1[..., None, :]
    outer0 = g0[..., :, None] * g0[..., None, :]
    mixed = g1[..., :, None] * g0[..., None, :]
    square = np.einsum("jq,jqkl->jkl", squared[:j], outer1)
    square += np.einsum("jq,jqkl->jkl", squared[j:], outer0)
    square += np.einsum("jq,jqkl->jkl", cross, mixed + np.swapaxes(mixed, -1, -2))
    return np.asarray(square, dtype=np.float64)


def _expected_score_outer(
    posterior: FloatArray, pairs: ResponsePairs, g1: FloatArray, g0: FloatArray, n_items: int
) -> FloatArray:
    """Σ over observed pairs of E[u]E[u]ᵀ per item, (J, K, K).

    E[u] = n_right·E[g1] + n_wrong·E[g0] for each pair; E[g] comes from a dense product of a chunk
    of users' posteriors (chunk, Q) with a (Q, J·K) table, read at the pairs' K contiguous cells.
    """
    k = g1.shape[-1]
    table_right = g1.transpose(1, 0, 2).reshape(g1.shape[1], n_items * k).astype(np.float32)
    table_wrong = g0.transpose(1, 0, 2).reshape(g0.shape[1], n_items * k).astype(np.float32)
    n_wrong_all = pairs.n_total - pairs.n_correct
    result = np.zeros((n_items, k, k))
    starts = np.searchsorted(pairs.user, np.arange(0, posterior.shape[0] + _CHUNK, _CHUNK))
    for chunk, (lo, hi) in enumerate(itertools.pairwise(starts)):
        if hi <= lo:
            continue
        block = posterior[chunk * _CHUNK : (chunk + 1) * _CHUNK].astype(np.float32)
        first_cell = (pairs.user[lo:hi] - chunk * _CHUNK) * (n_items * k) + pairs.item[lo:hi] * k
        cell = first_cell[:, None] + np.arange(k)
        right, wrong = pairs.n_correct[lo:hi, None], n_wrong_all[lo:hi, None]
        score = right * np.take((block @ table_right).reshape(-1), cell)
        score = (score + wrong * np.take((block @ table_wrong).reshape(-1), cell)).astype(np.float64)
        cols = pairs.item[lo:hi]
        for a in range(k):
            for b in range(a, k):
                total = np.bincount(cols, weights=score[:, a] * score[:, b], minlength=n_items)
                result[:, a, b] += total
                if a != b:
                    result[:, b, a] += total
    return result


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
