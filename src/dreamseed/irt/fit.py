"""Item fit and reliability.

- **Infit / outfit** mean squares (Wright & Masters) from plug-in abilities (EAP by default):
  outfit = mean of squared standardised residuals over an item's answers, infit = Σ (y − P)² /
  Σ P(1 − P). Both ≈ 1 under the model, somewhat less with plug-in EAP abilities on short tests
  (each user's θ̂ is fitted to the same answers); valid with any missingness.
- **S-X2** (Orlando & Thissen 2000) compares observed and model-implied proportions correct in
  each summed-score group, with the model's summed-score distributions from the Lord–Wingersky
  recursion on the quadrature grid. Summed scores are only comparable when everyone took every
  item, so S-X2 is computed only for complete data (each user answered each item once) with at
  most ``S_X2_MAX_ITEMS`` items; otherwise the fields are None. Adjacent score groups whose
  expected right or wrong count is below 1 are merged from the tails inward (as R mirt's
  ``mincell = 1``); df = groups − item parameters (2 for a 1PL item: R mirt counts the shared slope
  for every item), and an item left with
  df ≤ 0 reports X² = 0, df = 0, p = 1.
- **Empirical reliability**: var(θ̂) / (var(θ̂) + mean(se²)) over users with answers (R mirt's
  ``empirical_rxx``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import chdtrc  # chi2.sf without importing scipy.stats (~0.5 s)

from dreamseed.irt.item_model import ItemModel
from dreamseed.irt.parameters import Abilities, ItemParameters, probability_correct
from dreamseed.irt.quadrature import QuadratureGrid
from dreamseed.irt.responses import Responses
from dreamseed.irt.scoring import score

FloatArray = npt.NDArray[np.float64]
S_X2_MAX_ITEMS = 200


@dataclass(frozen=True, eq=False)
class ItemFit:
    """Per-item fit, arrays of shape (J,) aligned with ``item_id``; S-X2 fields None when invalid."""

    item_id: npt.NDArray[Any]
    n_answers: npt.NDArray[np.int64]
    infit: FloatArray
    outfit: FloatArray
    s_x2: FloatArray | None = None
    s_x2_df: npt.NDArray[np.int64] | None = None
    s_x2_p: FloatArray | None = None

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: quantiles of infit/outfit, misfit counts, S-X2 flags at p < 0.01."""
        out: dict[str, Any] = {
            "n_items": int(self.item_id.size),
            "infit": _quantiles(self.infit),
            "outfit": _quantiles(self.outfit),
            "n_infit_outside_0.7_1.3": int(np.sum((self.infit < 0.7) | (self.infit > 1.3))),
            "n_outfit_outside_0.7_1.3": int(np.sum((self.outfit < 0.7) | (self.outfit > 1.3))),
            "s_x2_computed": self.s_x2 is not None,
        }
        if self.s_x2_p is not None:
            flagged = self.item_id[self.s_x2_p < 0.01]
            out["s_x2_n_p_below_0.01"] = int(flagged.size)
            out["s_x2_flagged_items"] = [x.item() if isinstance(x, np.generic) else x for x in flagged]
        return out


def _quantiles(values: FloatArray) -> dict[str, float]:
    if values.size == 0:
        return {"min": 0.0, "median": 0.0, "max": 0.0}
    return {"min": float(values.min()), "median": float(np.median(values)), "max": float(values.max())}


def item_fit(
    responses: Responses,
    items: ItemParameters,
    abilities: Abilities | None = None,
    grid: QuadratureGrid | None = None,
    model: str | None = None,
) -> ItemFit:
    """Fit of ``items`` to ``responses`` (abilities default to EAP scores; ``grid`` is used for
    S-X2, default 61 points on [−6, 6]; ``model`` sets the S-X2 df, default from c: 3PL if any
    c > 0, else 2PL)."""
    aligned = responses.aligned_to(items.item_id)
    theta = (abilities or score(aligned, items)).theta
    infit, outfit, n = _infit_outfit(aligned, items, theta)
    fit = ItemFit(items.item_id, n, infit, outfit)
    if aligned.is_complete() and len(items) <= S_X2_MAX_ITEMS and len(items) >= 3:
        n_params = ItemModel.named(model or ("3PL" if np.any(items.c > 0) else "2PL")).n_params
        x2, df, p = _s_x2(aligned, items, grid or QuadratureGrid.normal(61, 6.0), n_params)
        fit = ItemFit(items.item_id, n, infit, outfit, x2, df, p)
    return fit


def _infit_outfit(
    responses: Responses, items: ItemParameters, theta: FloatArray
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.int64]]:
    pairs = responses.pairs
    p = np.clip(
        probability_correct(theta[pairs.user], items.a[pairs.item], items.b[pairs.item], items.c[pairs.item]),
        1e-9,
        1 - 1e-9,
    )
    variance = p * (1 - p)
    squared = pairs.n_correct * (1 - p) ** 2 + (pairs.n_total - pairs.n_correct) * p**2
    j = len(items)
    n = np.bincount(pairs.item, weights=pairs.n_total, minlength=j)
    total_variance = np.bincount(pairs.item, weights=pairs.n_total * variance, minlength=j)
    infit = np.bincount(pairs.item, weights=squared, minlength=j) / np.maximum(total_variance, 1e-12)
    outfit = np.bincount(pairs.item, weights=squared / variance, minlength=j) / np.maximum(n, 1)
    return infit, outfit, n.round().astype(np.int64)


def _score_distributions(p: FloatArray) -> FloatArray:
    """Lord–Wingersky: P(sum = k | θ_q) for all items (row J) and leaving out each item (rows 0…J−1);
    returns (J + 1, J + 1, Q): [excluded item or J for none, score, point]."""
    j, q = p.shape
    dist = np.zeros((j + 1, j + 1, q))
    dist[:, 0, :] = 1.0
    for m in range(j):
        updated = dist * (1 - p[m])
        updated[:, 1:, :] += dist[:, :-1, :] * p[m]
        updated[m] = dist[m]
        dist = updated
    return dist


def _s_x2(
    responses: Responses, items: ItemParameters, grid: QuadratureGrid, n_params: int
) -> tuple[FloatArray, npt.NDArray[np.int64], FloatArray]:
    j = len(items)
    p = probability_correct(grid.points[None, :], items.a[:, None], items.b[:, None], items.c[:, None])
    dist = _score_distributions(p)
    w = grid.weights
    totals = np.asarray(responses.correct_counts.sum(axis=1)).reshape(-1).round().astype(np.int64)
    group_size = np.bincount(totals, minlength=j + 1).astype(np.float64)
    right_by_score = np.zeros((j, j + 1))
    correct = responses.correct_counts.tocoo()
    np.add.at(right_by_score, (correct.col, totals[correct.row]), correct.data)
    denominator = dist[j] @ w
    x2, df, pval = np.zeros(j), np.zeros(j, dtype=np.int64), np.ones(j)
    for i in range(j):
        expected = np.zeros(j + 1)
        expected[1:] = (p[i] * dist[i, :-1, :]) @ w / np.maximum(denominator[1:], 1e-300)
        scores = np.arange(1, j)
        x2[i], groups = _collapsed_x2(group_size[scores], right_by_score[i, scores], expected[scores])
        df[i] = max(groups - n_params, 0)
        x2[i] = x2[i] if df[i] > 0 else 0.0
        pval[i] = float(chdtrc(df[i], x2[i])) if df[i] > 0 else 1.0
    return x2, df, pval


def _collapsed_x2(n: FloatArray, observed_right: FloatArray, expected_p: FloatArray) -> tuple[float, int]:
    """Σ N (O − E)² / (E (1 − E)) after merging sparse tail groups; returns (X², groups)."""
    groups = [[n[k], observed_right[k], n[k] * expected_p[k]] for k in range(n.size) if n[k] > 0]
    groups = _merge_tails(_merge_tails(groups)[::-1])[::-1]
    x2 = 0.0
    for size, right, expected_right in groups:
        e = min(max(expected_right / size, 1e-12), 1 - 1e-12)
        x2 += size * (right / size - e) ** 2 / (e * (1 - e))
    return float(x2), len(groups)


def _merge_tails(groups: list[list[float]]) -> list[list[float]]:
    merged: list[list[float]] = []
    carry: list[float] | None = None
    for group in groups:
        current = group if carry is None else [carry[k] + group[k] for k in range(3)]
        if min(current[2], current[0] - current[2]) < 1.0 and len(merged) == 0:
            carry = current
        else:
            merged.append(current)
            carry = None
    if carry is not None:
        if merged:
            merged[-1] = [merged[-1][k] + carry[k] for k in range(3)]
        else:
            merged.append(carry)
    return merged


def empirical_reliability(abilities: Abilities) -> float:
    """var(θ̂) / (var(θ̂) + mean(se²)) over users with answers; 0 when undefined."""
    used = abilities.n_responses > 0
    if used.sum() < 2:
        return 0.0
    variance = float(np.var(abilities.theta[used], ddof=1))
    error = float(np.mean(abilities.se[used] ** 2))
    total = variance + error
    return variance / total if total > 0 else 0.0
