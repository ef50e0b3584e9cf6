"""Local dependence between item pairs: Chen–Thissen (1997) LD X2 and Yen's (1984) Q3.

**LD X2** of items j, k: the 2 × 2 table of the N_jk users who answered both, observed against
its marginal expectation N_jk·(π_jk, π_j − π_jk, π_k − π_jk, 1 − π_j − π_k + π_jk) over the
population density; X2 = Σ (O − E)²/E on 1 df. As R mirt's ``residuals(mod, type = 'LD')``, the
signed standardised form is sign(γ_O − γ_E)·√(X2/N_jk) (Cramér's V signed by the difference of
the Goodman–Kruskal gammas of the observed and expected tables; positive: more agreement than
the model implies).

**Q3**: the correlation over users of the residuals x_uj − P_j(θ̂_u) of two items at the ability
estimates (mirt's ``type = 'Q3'``, EAP by default). Both are defined for incomplete data: each pair
uses the users who answered both items (repeated answers count as separate answers).
Cost: a few (J, N)·(N, J) products over dense blocks of users (``pair_products``); memory (J, J).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import erfc  # χ²₁'s tail: erfc(√(x/2)), 200× faster than chdtrc(1, x)

from dreamseed.irt.marginal_moments import item_curves
from dreamseed.irt.pair_products import PairColumn, cross_products
from dreamseed.irt.parameters import ItemParameters, probability_correct
from dreamseed.irt.quadrature import QuadratureGrid, mirt_grid
from dreamseed.irt.responses import Responses

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class LocalDependence:
    """LD X2 (J, J) symmetric, its p-values (1 df), the signed Cramér's V and the pair counts N_jk.

    Diagonals are NaN; ``item_id`` (J,) labels both axes.
    """

    item_id: npt.NDArray[Any]
    x2: FloatArray
    p_value: FloatArray
    signed_v: FloatArray
    n_pairs: FloatArray

    def mirt_matrix(self) -> FloatArray:
        """mirt's layout: X2 below the diagonal, signed Cramér's V above it, NaN on it."""
        lower = np.tril(np.ones_like(self.x2, dtype=bool), k=-1)
        return np.where(lower, self.x2, self.signed_v)


#: ``cross_products`` of (right, total) giving R'R, R'O and O'O: the 2 × 2 tables of every pair.
_TABLE_PRODUCTS = ((0, 0), (0, 1), (1, 1))


def _tables(n11: FloatArray, n1_: FloatArray, n: FloatArray) -> tuple[FloatArray, ...]:
    """Observed (n11, n10, n01, n00), each (J, J), from R'R, R'O and O'O (R right answers, O all)."""
    n10 = n1_ - n11  # right on j, wrong on k
    return n11, n10, n10.T, n - n1_ - n1_.T + n11


def _count_columns(responses: Responses) -> tuple[PairColumn, PairColumn]:
    pairs = responses.pairs
    return PairColumn(pairs.n_correct, integer=True), PairColumn(pairs.n_total, integer=True)


def _gamma(n11: FloatArray, n10: FloatArray, n01: FloatArray, n00: FloatArray) -> FloatArray:
    concordant, discordant = n11 * n00, n10 * n01
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((concordant - discordant) / (concordant + discordant))


def ld_x2(
    responses: Responses,
    items: ItemParameters,
    *,
    grid: QuadratureGrid | None = None,
    population_mean: float = 0.0,
    population_sd: float = 1.0,
) -> LocalDependence:
    """Chen–Thissen LD X2 of every item pair of ``items`` (mirt's 61-point grid by default)."""
    aligned = responses.aligned_to(items.item_id)
    sums = cross_products(
        aligned.pairs, aligned.n_users, aligned.n_items, _count_columns(aligned), _TABLE_PRODUCTS
    )
    return _ld_x2_from(_tables(*sums), items, grid, population_mean, population_sd)


def _ld_x2_from(
    observed: tuple[FloatArray, ...],
    items: ItemParameters,
    grid: QuadratureGrid | None,
    mean: float,
    sd: float,
) -> LocalDependence:
    points = (grid or mirt_grid()).points
    weights = QuadratureGrid.on_points(points, mean, sd).weights
    curves = item_curves(items.a, items.d, items.c, points)
    single = curves @ weights
    joint = (curves * weights) @ curves.T
    n = observed[0] + observed[1] + observed[2] + observed[3]
    shares = (
        joint,
        single[:, None] - joint,
        single[None, :] - joint,
        1 - single[:, None] - single[None, :] + joint,
    )
    expected = tuple(n * share for share in shares)
    with np.errstate(invalid="ignore", divide="ignore"):
        x2 = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))
        sign = np.sign(_gamma(*observed) - _gamma(*expected))
        signed_v = np.where(sign == 0, 1.0, sign) * np.sqrt(x2 / n)
    off = ~np.eye(len(items), dtype=bool)
    x2 = np.where(off & (n > 0), x2, np.nan)
    return LocalDependence(
        items.item_id, x2, np.asarray(erfc(np.sqrt(x2 / 2.0))), np.where(off, signed_v, np.nan), n
    )


def yen_q3(responses: Responses, items: ItemParameters, theta: FloatArray) -> FloatArray:
    """Yen's Q3 (J, J): residual correlations at abilities ``theta`` (N,, aligned with user_ids).

    Each pair uses the users who answered both items; 1 on the diagonal, NaN where fewer than 3
    users answered both.
    """
    aligned = responses.aligned_to(items.item_id)
    pairs = aligned.pairs
    p = probability_correct(np.asarray(theta)[pairs.user], items.a[pairs.item], items.b[pairs.item],
                            items.c[pairs.item])  # fmt: skip
    return q3_at(aligned, p)


def q3_at(responses: Responses, p: FloatArray) -> FloatArray:
    """Q3 (J, J) from the model probabilities ``p`` (P,) of ``responses.pairs`` (see ``yen_q3``)."""
    seen, residual, squared = _residual_columns(responses, p)
    sums = cross_products(responses.pairs, responses.n_users, responses.n_items, (seen, residual, squared),
                          ((0, 0), (1, 0), (2, 0), (1, 1)))  # fmt: skip
    return _q3_from(*sums)


def local_dependence_at(
    responses: Responses,
    items: ItemParameters,
    p: FloatArray,
    *,
    grid: QuadratureGrid | None = None,
    population_mean: float = 0.0,
    population_sd: float = 1.0,
) -> tuple[LocalDependence, FloatArray]:
    """``ld_x2`` and Q3 (J, J) in one pass over the answers: ``responses`` aligned with ``items``,
    ``p`` (P,) the probabilities of ``responses.pairs`` at the ability estimates. Without repeated
    answers the users who answered both items of a pair are O'O for both (6 products, not 7)."""
    right, total = _count_columns(responses)
    seen, residual, squared = _residual_columns(responses, p)
    repeats = bool(np.any(responses.pairs.n_total != 1))
    s = 2 if repeats else 1  # the seen indicator's column
    columns = (right, total, seen, residual, squared)
    products = (*_TABLE_PRODUCTS, (s, s), (3, s), (4, s), (3, 3))
    sums = cross_products(responses.pairs, responses.n_users, responses.n_items, columns, products)
    ld = _ld_x2_from(_tables(*sums[:3]), items, grid, population_mean, population_sd)
    return ld, _q3_from(*sums[3:])


def _residual_columns(responses: Responses, p: FloatArray) -> tuple[PairColumn, PairColumn, PairColumn]:
    """Per pair: 1 (answered), the residual x − n·P and its square."""
    pairs = responses.pairs
    residual = pairs.n_correct - pairs.n_total * p
    return PairColumn(np.ones_like(p), integer=True), PairColumn(residual), PairColumn(residual * residual)


def _q3_from(n: FloatArray, sum_x: FloatArray, sum_xx: FloatArray, sum_xy: FloatArray) -> FloatArray:
    """Q3 from the sums over the users who answered j and k: their number, Σ r_j, Σ r_j², Σ r_j r_k."""
    with np.errstate(invalid="ignore", divide="ignore"):
        covariance = n * sum_xy - sum_x * sum_x.T
        q3 = covariance / np.sqrt((n * sum_xx - sum_x**2) * (n * sum_xx.T - sum_x.T**2))
    q3 = np.where(n >= 3, q3, np.nan)
    np.fill_diagonal(q3, 1.0)
    return np.asarray(q3, dtype=np.float64)


def dependent_pairs(
    matrix: FloatArray, threshold: float, item_id: npt.NDArray[Any] | None = None
) -> list[tuple[Any, Any, float]]:
    """Pairs (j, k, value), j < k, whose value exceeds ``threshold``, largest first.

    Use with ``LocalDependence.x2`` (e.g. 10.0, or the χ²₁ quantile of a chosen alpha) or with Q3
    (e.g. 0.2 above the mean off-diagonal Q3, Christensen et al. 2017).
    """
    first, second = np.triu_indices(matrix.shape[0], k=1)
    values = matrix[first, second]
    hit = np.flatnonzero(np.nan_to_num(values, nan=-np.inf) > threshold)
    hit = hit[np.argsort(-values[hit])]
    labels = (np.arange(matrix.shape[0]) if item_id is None else np.asarray(item_id)).tolist()
    return [(labels[first[h]], labels[second[h]], float(values[h])) for h in hit]
