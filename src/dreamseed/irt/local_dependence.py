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
from scipy.special import chdtrc  # chi2.sf without importing scipy.stats (~0.5 s)

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


def _pair_tables(responses: Responses) -> tuple[FloatArray, ...]:
    """Observed (n11, n10, n01, n00), each (J, J): counts of the users who answered both items."""
    pairs = responses.pairs
    right, total = PairColumn(pairs.n_correct, integer=True), PairColumn(pairs.n_total, integer=True)
    n11, n1_, n = cross_products(
        pairs, responses.n_users, responses.n_items, (right, total), ((0, 0), (0, 1), (1, 1))
    )
    n10 = n1_ - n11  # right on j, wrong on k
    return n11, n10, n10.T, n - n1_ - n1_.T + n11


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
    points = (grid or mirt_grid()).points
    weights = QuadratureGrid.on_points(points, population_mean, population_sd).weights
    curves = item_curves(items.a, items.d, items.c, points)
    single = curves @ weights
    joint = (curves * weights) @ curves.T
    observed = _pair_tables(aligned)
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
    return LocalDependence(items.item_id, x2, np.asarray(chdtrc(1, x2)), np.where(off, signed_v, np.nan), n)


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
    pairs = responses.pairs
    residual = pairs.n_correct - pairs.n_total * p
    seen = PairColumn(np.ones_like(p), integer=True)
    columns = (seen, PairColumn(residual), PairColumn(residual * residual))
    # [j, k]: users who answered j and k; Σ r_j, Σ r_j², Σ r_j r_k over them
    n, sum_x, sum_xx, sum_xy = cross_products(
        pairs, responses.n_users, responses.n_items, columns, ((0, 0), (1, 0), (2, 0), (1, 1))
    )
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
