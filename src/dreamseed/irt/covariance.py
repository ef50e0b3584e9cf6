"""Full-information covariance of all estimated parameters (Louis 1982, complete form).

The observed information of the marginal log-likelihood is

    I = Σ_p E_p[−∂²ℓ_c,p] − Σ_p Cov_p(s_p)

with ℓ_c,p user p's complete-data log-likelihood, s_p its score over *all* parameters and E_p,
Cov_p over p's posterior on the quadrature grid. The first term is block-diagonal (one block per
item, one for the population mean and log SD) and reduces to expected counts. The second couples
every pair of items a user answered: with S_p(θ_q) the sparse score vector of p's answers at grid
point q,

    Σ_p Cov_p(s_p) = Zᵀ Z − Eᵀ E,   Z[(p, q), :] = √π_pq · S_p(θ_q),   E[p, :] = Σ_q π_pq S_p(θ_q),

two sparse Gram products whose cost is Q · Σ_p (n_p K)² multiply-adds (n_p = answers of user p,
K = parameters per item); memory is bounded by processing users in chunks. The population
parameters enter as one more "item" every user answers, with score ∂ log w_q / ∂(μ, log σ).

The result is the exact observed information of the likelihood the EM maximised (plus prior
curvature for Bayes-modal estimates); ``block_diagonal_information`` is the per-item
approximation (cross-item terms dropped) kept as a fast option.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.special import ndtri  # the normal quantile; scipy.stats costs ~0.5 s to import

from dreamseed.irt.estep import posterior_by_user
from dreamseed.irt.inverse import inverse_with_condition
from dreamseed.irt.item_model import (
    ItemModel,
    ProbabilityDerivatives,
    probability_derivatives,
    stacked_log_table,
)
from dreamseed.irt.mstep import ItemArrays, common_slope_prior_terms, prior_terms
from dreamseed.irt.parameters import Priors
from dreamseed.irt.responses import ResponsePairs, Responses
from dreamseed.irt.standard_errors import score_square

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Grid-point score cells (pairs × Q × K) built at once; bounds the memory of the Gram products.
_CELLS_PER_CHUNK = 4_000_000
_PARAMETER_NAMES = ("a", "d", "logit_c")

#: ``"auto"`` uses the full information up to this many Gram multiply-adds, Q·Σ_p (n_p K)² (about
#: 2 s on one core); above it the block-diagonal approximation.
FULL_INFORMATION_BUDGET = 2e8

#: Degree of the posterior polynomials of the ``"polynomial"`` cross terms.
POLYNOMIAL_DEGREE = 3
#: Rows (users × degree) per dense Gram product.
_GRAM_ROWS = 8192


#: ``"auto"`` keeps the full information in the polynomial form up to this many Gram
#: multiply-adds, N · R · (JK + 2)² (a few seconds); above it the block-diagonal approximation.
POLYNOMIAL_BUDGET = 1e10


def polynomial_cost(n_users: int, n_items: int, n_params: int) -> float:
    """Multiply-adds of the polynomial form's dense Gram products: N · R · (J·K + 2)²."""
    return float(n_users) * POLYNOMIAL_DEGREE * float(n_items * n_params + 2) ** 2


def auto_method(data: Responses, n_points: int, n_params: int) -> str:
    """``"full"`` when the exact or the polynomial form is within its budget, else ``"block-diagonal"``.

    The exact cost is only computed (it needs ``data.pairs``) when its lower bound Q·K²·nnz/2 is
    within budget.
    """
    k = n_params
    bound = n_points * k * k * data.counts.nnz / 2
    if bound <= FULL_INFORMATION_BUDGET and (
        full_information_cost(data.pairs, data.n_users, n_points, k) <= FULL_INFORMATION_BUDGET
    ):
        return "full"
    return "full" if polynomial_cost(data.n_users, data.n_items, k) <= POLYNOMIAL_BUDGET else "block-diagonal"


def full_information_cost(pairs: ResponsePairs, n_users: int, n_points: int, n_params: int) -> float:
    """Multiply-adds of the full-information Gram products: Q · Σ_p ((n_p + 1)·K)²."""
    per_user = np.bincount(pairs.user, minlength=n_users).astype(np.float64)
    return float(n_points * np.sum(((per_user + 1) * n_params) ** 2))


@dataclass(frozen=True, eq=False)
class ParameterCovariance:
    """Covariance (P, P) of the P estimated parameters, named in ``names`` (e.g. ``"d[Item_1]"``,
    ``"a"`` for the 1PL's shared slope, ``"mean"``, ``"log_sd"``), at ``estimates`` (P,).

    ``method`` is ``"full"`` (observed information, all cross terms) or ``"block-diagonal"`` (an
    approximation: each item's own block); ``condition_number`` is the ratio of the largest to the
    smallest eigenvalue of the information matrix.
    """

    names: tuple[str, ...]
    estimates: FloatArray
    matrix: FloatArray
    condition_number: float
    method: str
    cross_terms: str = "exact"

    @property
    def standard_errors(self) -> FloatArray:
        return np.asarray(np.sqrt(np.maximum(np.diag(self.matrix), 0.0)), dtype=np.float64)

    def wald_intervals(self, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
        """(lower, upper) Wald limits estimate ∓ z·SE, each shape (P,)."""
        half = float(ndtri(0.5 + level / 2)) * self.standard_errors
        return self.estimates - half, self.estimates + half

    def summary(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "cross_terms": self.cross_terms,
            "n_parameters": len(self.names),
            "condition_number": self.condition_number,
        }


@dataclass(frozen=True, eq=False)
class CovarianceProblem:
    """What the covariance needs: the estimation data and the estimates.

    ``counts`` (N, 2J) and ``pairs`` are the responses; ``items`` the slope–intercept estimates of
    the J items; ``points`` (Q,) the grid with population ``mean`` and ``sd``; ``free`` (J,) the
    estimated items; ``estimate_mean``/``estimate_sd`` whether μ and log σ are parameters.
    """

    counts: sp.csr_matrix
    pairs: ResponsePairs
    items: ItemArrays
    points: FloatArray
    mean: float
    sd: float
    model: ItemModel
    priors: Priors
    free: BoolArray
    estimate_mean: bool
    estimate_sd: bool

    @property
    def population_columns(self) -> list[int]:
        """Which of (μ, log σ) are parameters, as positions 0 and 1."""
        return [k for k, on in enumerate((self.estimate_mean, self.estimate_sd)) if on]


def parameter_covariance(
    problem: CovarianceProblem, method: str = "full", cross: str = "auto"
) -> ParameterCovariance:
    """Covariance of all estimated parameters by ``method`` ("full" or "block-diagonal").

    ``cross`` picks how the full form sums the cross-item score covariances: ``"exact"`` (sparse
    Gram products over every grid point), ``"polynomial"`` (each user's posterior projected on
    orthonormal polynomials of degree ``POLYNOMIAL_DEGREE``; dense products, see the module
    docstring) or ``"auto"`` (exact while ``full_information_cost`` ≤ ``FULL_INFORMATION_BUDGET``).
    """
    if method not in ("full", "block-diagonal"):
        raise ValueError(f"covariance method must be 'full' or 'block-diagonal', not {method!r}")
    if cross not in ("auto", "exact", "polynomial"):
        raise ValueError(f"cross must be 'auto', 'exact' or 'polynomial', not {cross!r}")
    if cross == "auto":
        cost = full_information_cost(
            problem.pairs, problem.counts.shape[0], problem.points.size, problem.model.n_params
        )
        cross = "exact" if cost <= FULL_INFORMATION_BUDGET else "polynomial"
    if method == "block-diagonal":
        cross = "exact"
    raw = raw_information(problem, full=method == "full", cross=cross)
    mapping, names, estimates = _parameter_map(problem)
    information = np.asarray(mapping.T @ raw @ mapping)
    if problem.model.common_slope and problem.free.any():
        information[0, 0] += common_slope_prior_terms(
            float(problem.items.a[problem.free][0]), problem.priors
        )[1]
    matrix, condition = inverse_with_condition(information)
    return ParameterCovariance(tuple(names), estimates, matrix, condition, method, cross)


def raw_information(problem: CovarianceProblem, full: bool = True, cross: str = "exact") -> FloatArray:
    """Observed information over the raw columns (J·K item columns, item-major, then μ, log σ).

    ``cross="polynomial"`` sums the cross-item score covariances in the posterior-polynomial form
    (the item and population diagonal blocks stay exact); only with ``full``.
    """
    items, k = problem.items, problem.model.n_params
    j = items.a.size
    weights = _log_weights(problem.points, problem.mean, problem.sd)
    table = stacked_log_table(items.a, items.d, items.c, problem.points)
    posterior = posterior_by_user(problem.counts, table, weights)
    deriv = probability_derivatives(items.a, items.d, items.c, problem.points, k, second=True)
    g1 = deriv.gradient / deriv.p[..., None]
    g0 = -deriv.gradient / (1.0 - deriv.p)[..., None]
    n_raw = j * k + 2
    information = np.zeros((n_raw, n_raw))
    complete = _complete_item_information(problem.counts, posterior, deriv, g1, g0, j)
    complete += prior_terms(items, problem.priors, k, per_item_slope=problem.model.per_item_slope)[1]
    for item in range(j):
        cells = slice(item * k, (item + 1) * k)
        information[cells, cells] = complete[item]
    population_score, population_complete = _population_terms(
        problem.points, problem.mean, problem.sd, posterior
    )
    information[j * k :, j * k :] = population_complete
    if full and cross == "polynomial":
        score_covariance, item_outer, population_outer = _polynomial_score_covariance(
            problem.counts, posterior, problem.points, g1, g0, population_score, POLYNOMIAL_DEGREE
        )
        within = score_square(problem.counts, posterior, g1, g0) - item_outer
        for item in range(j):
            cells = slice(item * k, (item + 1) * k)
            score_covariance[cells, cells] = within[item]
        score_covariance[j * k :, j * k :] = (
            np.einsum("q,qk,ql->kl", posterior.sum(axis=0), population_score, population_score)
            - population_outer
        )
    else:
        score_covariance = _score_covariance(problem.pairs, posterior, g1, g0, population_score, full)
    return np.asarray(information - score_covariance, dtype=np.float64)


def _complete_item_information(
    counts: sp.csr_matrix,
    posterior: FloatArray,
    deriv: ProbabilityDerivatives,
    g1: FloatArray,
    g0: FloatArray,
    n_items: int,
) -> FloatArray:
    """Σ_p E_p[−∂²ℓ_c] per item, (J, K, K), from expected right and wrong counts."""
    expected = np.asarray(counts.T @ posterior)
    right, wrong = expected[:n_items], expected[n_items:]
    complete = np.einsum("jq,jqkl->jkl", -right / deriv.p + wrong / (1.0 - deriv.p), deriv.hessian)
    complete += np.einsum("jq,jqk,jql->jkl", right, g1, g1) + np.einsum("jq,jqk,jql->jkl", wrong, g0, g0)
    return np.asarray(complete, dtype=np.float64)


def _log_weights(points: FloatArray, mean: float, sd: float) -> FloatArray:
    log_density = -0.5 * ((points - mean) / sd) ** 2
    return np.asarray(log_density - np.logaddexp.reduce(log_density), dtype=np.float64)


def _population_terms(
    points: FloatArray, mean: float, sd: float, posterior: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Score h (Q, 2) of log w_q in (μ, log σ) and Σ_p E_p[−∂² log w] (2, 2).

    log w_q = f(θ_q) − log Σ_r exp f(θ_r) with f = −z²/2, z = (θ − μ)/σ, so h = f′ − E_w[f′] and
    −∂² log w_q = −f″(θ_q) + E_w[f″] + Cov_w(f′).
    """
    weights = np.exp(_log_weights(points, mean, sd))
    z = (points - mean) / sd
    t = np.stack([z / sd, z * z], axis=1)
    h = t - weights @ t
    second = np.empty((points.size, 2, 2))
    second[:, 0, 0] = -1.0 / sd**2
    second[:, 0, 1] = second[:, 1, 0] = -2.0 * z / sd
    second[:, 1, 1] = -2.0 * z * z
    mass = posterior.sum(axis=0)
    covariance_t = np.einsum("q,qk,ql->kl", weights, h, h)
    complete = -np.einsum("q,qkl->kl", mass, second) + mass.sum() * (
        np.einsum("q,qkl->kl", weights, second) + covariance_t
    )
    return np.asarray(h, dtype=np.float64), np.asarray(complete, dtype=np.float64)


def _score_covariance(
    pairs: ResponsePairs,
    posterior: FloatArray,
    g1: FloatArray,
    g0: FloatArray,
    population_score: FloatArray,
    full: bool,
) -> FloatArray:
    """Σ_p Cov_p(s_p) over the raw columns; only the diagonal blocks unless ``full``."""
    n_users, n_points = posterior.shape
    n_items, _, k = g1.shape
    n_raw = n_items * k + 2
    total = np.zeros((n_raw, n_raw))
    per_user = np.diff(np.searchsorted(pairs.user, np.arange(n_users + 1)))
    cells_per_user = (per_user + 1) * n_points * k
    bounds = _chunk_bounds(np.cumsum(cells_per_user), _CELLS_PER_CHUNK)
    starts = np.searchsorted(pairs.user, bounds)
    for (lo_user, hi_user), (lo, hi) in zip(
        itertools.pairwise(bounds), itertools.pairwise(starts), strict=True
    ):
        users = np.arange(lo_user, hi_user)
        block = _chunk_score_covariance(
            pairs, slice(lo, hi), users, posterior, g1, g0, population_score, full
        )
        total += block
    return total


def _polynomial_score_covariance(
    counts: sp.csr_matrix,
    posterior: FloatArray,
    points: FloatArray,
    g1: FloatArray,
    g0: FloatArray,
    population_score: FloatArray,
    degree: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The posterior-polynomial score covariance and the exact expected-score outer products.

    Returns Σ_p Σ_{r≥1} c_pr c_prᵀ over the raw columns (n_raw, n_raw), c_pr = Σ_q π_pq φ_pr(θ_q)
    s_p(θ_q) with φ_p0 = 1, φ_p1 … φ_pR user p's posterior-orthonormal polynomials (R = ``degree``),
    and the exact Σ_p E_p[s_pj] E_p[s_pj]ᵀ per item (J, K, K) and for the population (2, 2).

    Per chunk of users: A = [g0 | g1 − g0 | h]ᵀ @ (π φ)ᵀ (dense float32, (2JK + 2, (R + 1)·chunk)),
    masked by the users' answer counts, then one dense Gram product accumulated in float64.
    """
    n_users, n_points = posterior.shape
    n_items, _, k = g1.shape
    jk = n_items * k
    # Columns k-major (k·J + j) so that every elementwise loop runs over users or items, never K.
    wrong_table = g0.transpose(2, 0, 1).reshape(jk, n_points)
    step_table = (g1 - g0).transpose(2, 0, 1).reshape(jk, n_points)
    table = np.concatenate([wrong_table, step_table, population_score.T]).astype(np.float32)
    gram = np.zeros((jk + 2, jk + 2))
    outer = np.zeros((n_items, k, k))
    population_outer = np.zeros((2, 2))
    chunk = max(1, _GRAM_ROWS // degree)
    counts32 = counts.astype(np.float32)
    for lo in range(0, n_users, chunk):
        hi = min(lo + chunk, n_users)
        size = hi - lo
        basis = _posterior_polynomials(posterior[lo:hi], points, degree)  # (c, R + 1, Q)
        basis_t = np.ascontiguousarray(basis.transpose(2, 1, 0), dtype=np.float32).reshape(n_points, -1)
        a = (table @ basis_t).reshape(-1, degree + 1, size)  # rows: 2JK + 2 columns; (r, user)
        block = counts32[lo:hi].toarray().T  # (2J, c)
        right, answered = block[:n_items], block[:n_items] + block[n_items:]
        y = a[:jk].reshape(k, n_items, degree + 1, size) * answered[None, :, None, :]
        y += a[jk : 2 * jk].reshape(k, n_items, degree + 1, size) * right[None, :, None, :]
        mean_score = y[:, :, 0, :].astype(np.float64)  # E_p[s_pj], (K, J, c)
        for kk in range(k):
            for ll in range(kk, k):
                value = np.einsum("jp,jp->j", mean_score[kk], mean_score[ll])
                outer[:, kk, ll] += value
                if ll != kk:
                    outer[:, ll, kk] += value
        population = a[2 * jk :].astype(np.float64)  # (2, R + 1, c)
        population_outer += population[:, 0, :] @ population[:, 0, :].T
        rows = np.concatenate([y[:, :, 1:, :].reshape(jk, -1), a[2 * jk :, 1:, :].reshape(2, -1)])
        gram += (rows @ rows.T).astype(np.float64)
    order = np.concatenate([(np.arange(k)[None, :] * n_items + np.arange(n_items)[:, None]).reshape(-1),
                            [jk, jk + 1]])  # fmt: skip
    total = gram[np.ix_(order, order)]
    return total, outer, population_outer


def _posterior_polynomials(posterior: FloatArray, points: FloatArray, degree: int) -> FloatArray:
    """π_pq φ_pr(θ_q) for r = 0 … ``degree``, (chunk, R + 1, Q): φ_pr orthonormal under user p's posterior
    π_p (weighted Gram–Schmidt of the standardised powers t, t², …, t = (θ − E θ)/SD θ)."""
    mean = posterior @ points
    centred = points[None, :] - mean[:, None]
    sd = np.sqrt(np.maximum(np.einsum("pq,pq->p", posterior, centred * centred), 1e-300))
    t = centred / sd[:, None]
    basis = [np.ones_like(t)]
    for power in range(1, degree + 1):
        v = t**power
        for phi in basis:
            v = v - np.einsum("pq,pq->p", posterior, v * phi)[:, None] * phi
        norm = np.sqrt(np.einsum("pq,pq->p", posterior, v * v))
        v = np.where(norm[:, None] > 1e-8, v / np.maximum(norm, 1e-300)[:, None], 0.0)
        basis.append(v)
    return np.asarray(posterior[:, None, :] * np.stack(basis, axis=1), dtype=np.float64)


def _chunk_bounds(cumulative: npt.NDArray[np.int64], budget: int) -> npt.NDArray[np.int64]:
    cuts = np.searchsorted(
        cumulative, np.arange(budget, int(cumulative[-1]) if cumulative.size else 0, budget)
    )
    return np.unique(np.concatenate([[0], cuts, [cumulative.size]])).astype(np.int64)


def _chunk_score_covariance(
    pairs: ResponsePairs,
    rows: slice,
    users: npt.NDArray[np.int64],
    posterior: FloatArray,
    g1: FloatArray,
    g0: FloatArray,
    population_score: FloatArray,
    full: bool,
) -> FloatArray:
    n_items, n_points, k = g1.shape
    n_raw = n_items * k + 2
    user, item = pairs.user[rows] - users[0], pairs.item[rows]
    right, wrong = pairs.n_correct[rows], pairs.n_total[rows] - pairs.n_correct[rows]
    post = posterior[users]
    score = right[:, None, None] * g1[item] + wrong[:, None, None] * g0[item]
    root = np.sqrt(post)
    z_values = np.concatenate(
        [
            (root[user][:, :, None] * score).reshape(-1),
            (root[:, :, None] * population_score[None, :, :]).reshape(-1),
        ]
    )
    pair_rows = (user[:, None] * n_points + np.arange(n_points)).repeat(k, axis=1).reshape(-1)
    pair_cols = np.tile((item[:, None] * k + np.arange(k))[:, None, :], (1, n_points, 1)).reshape(-1)
    pop_rows = np.repeat(np.arange(users.size * n_points), 2)
    pop_cols = np.tile(n_items * k + np.arange(2), users.size * n_points)
    shape_z = (users.size * n_points, n_raw)
    z = sp.csr_matrix(
        (z_values, (np.concatenate([pair_rows, pop_rows]), np.concatenate([pair_cols, pop_cols]))),
        shape=shape_z,
    )
    expected = np.einsum("pq,pqk->pk", post[user], score)
    e_values = np.concatenate([expected.reshape(-1), (post @ population_score).reshape(-1)])
    e_rows = np.concatenate([np.repeat(user, k), np.repeat(np.arange(users.size), 2)])
    e_cols = np.concatenate(
        [(item[:, None] * k + np.arange(k)).reshape(-1), np.tile(n_items * k + np.arange(2), users.size)]
    )
    e = sp.csr_matrix((e_values, (e_rows, e_cols)), shape=(users.size, n_raw))
    gram = (z.T @ z - e.T @ e).toarray()
    if full:
        return np.asarray(gram, dtype=np.float64)
    return np.asarray(gram * _block_mask(n_items, k), dtype=np.float64)


def _block_mask(n_items: int, k: int) -> FloatArray:
    group = np.concatenate([np.repeat(np.arange(n_items), k), [n_items, n_items]])
    return np.asarray(group[:, None] == group[None, :], dtype=np.float64)


def _parameter_map(problem: CovarianceProblem) -> tuple[sp.csr_matrix, list[str], FloatArray]:
    """Sparse (raw columns × parameters) map, parameter names and estimates.

    The 1PL's shared slope sums the free items' slope columns; fixed items and a Rasch model's
    slopes map to nothing.
    """
    items, model, free = problem.items, problem.model, problem.free
    k, j = model.n_params, items.a.size
    columns: list[list[int]] = []
    names: list[str] = []
    values: list[float] = []
    free_items = np.flatnonzero(free)
    if model.common_slope and free_items.size:
        columns.append([int(i) * k for i in free_items])
        names.append("a")
        values.append(float(items.a[free_items[0]]))
    own = [kk for kk in range(k) if not (kk == 0 and not model.per_item_slope)]
    arrays = (items.a, items.d, items.gamma)
    for i in free_items:
        for kk in own:
            columns.append([int(i) * k + kk])
            names.append(f"{_PARAMETER_NAMES[kk]}[{int(i)}]")
            values.append(float(arrays[kk][i]))
    for position in problem.population_columns:
        columns.append([j * k + position])
        names.append(("mean", "log_sd")[position])
        values.append(problem.mean if position == 0 else float(np.log(problem.sd)))
    rows = (
        np.concatenate([np.asarray(c, dtype=np.int64) for c in columns]) if columns else np.zeros(0, np.int64)
    )
    cols = np.repeat(np.arange(len(columns)), [len(c) for c in columns])
    mapping = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(j * k + 2, len(columns)))
    return mapping, names, np.asarray(values, dtype=np.float64)


def item_covariance_blocks(problem: CovarianceProblem, covariance: ParameterCovariance) -> FloatArray:
    """Each item's (K, K) covariance of (a, d[, γ]) read back from the parameter covariance, (J, K, K)."""
    mapping = _parameter_map(problem)[0]
    raw = np.asarray(mapping @ covariance.matrix @ mapping.T.toarray())
    k, j = problem.model.n_params, problem.items.a.size
    blocks = np.empty((j, k, k))
    for item in range(j):
        cells = slice(item * k, (item + 1) * k)
        blocks[item] = raw[cells, cells]
    return blocks
