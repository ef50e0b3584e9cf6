"""The M-step: each item's parameters maximise its expected complete-data log-posterior.

Given expected counts r (right) and w (wrong) of shape (J, Q) from the E-step, item j maximises

    Σ_q r_jq log P_j(θ_q) + w_jq log(1 − P_j(θ_q)) + log prior_j

over η = (a, d[, γ]) by Fisher scoring (the expected information is positive semi-definite, so
steps go uphill) with per-item step halving. The 1PL shares one slope among all free items; its
(slope, intercepts) system has an arrow-shaped information matrix solved in O(J).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dreamseed.irt.item_model import expected_loglik, logistic, probability_derivatives
from dreamseed.irt.parameters import Priors

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SLOPE_BOUNDS = (-10.0, 10.0)
INTERCEPT_BOUND = 40.0
LOGIT_C_BOUNDS = (-12.0, 4.0)


@dataclass(frozen=True, eq=False)
class ItemArrays:
    """Slope–intercept parameters of J items, each shape (J,); ``gamma`` = logit(c) (−inf for c = 0)."""

    a: FloatArray
    d: FloatArray
    gamma: FloatArray

    @property
    def c(self) -> FloatArray:
        return logistic(self.gamma)

    def replaced(self, a: FloatArray, d: FloatArray, gamma: FloatArray) -> ItemArrays:
        return ItemArrays(a.copy(), d.copy(), gamma.copy())


def n_item_params(model: str) -> int:
    return 3 if model == "3PL" else 2


def prior_log_density(items: ItemArrays, priors: Priors, model: str, per_item_slope: bool) -> FloatArray:
    """log prior of each item (J,), constants dropped; the slope prior only when ``per_item_slope``."""
    total = np.zeros_like(items.a)
    if model == "3PL" and priors.c is not None:
        c = items.c
        total += (priors.c.alpha - 1) * np.log(c) + (priors.c.beta - 1) * np.log1p(-c)
    if priors.a is not None and per_item_slope:
        log_a = np.log(np.maximum(items.a, 1e-6))
        total += -log_a - 0.5 * ((log_a - priors.a.mean_log) / priors.a.sd_log) ** 2
    if priors.b is not None:
        b = -items.d / items.a
        total += -0.5 * ((b - priors.b.mean) / priors.b.sd) ** 2
    return total


def prior_terms(
    items: ItemArrays, priors: Priors, n_params: int, per_item_slope: bool
) -> tuple[FloatArray, FloatArray]:
    """Gradient (J, K) and information (J, K, K) contributed by the priors."""
    j = items.a.size
    gradient = np.zeros((j, n_params))
    information = np.zeros((j, n_params, n_params))
    if n_params == 3 and priors.c is not None:
        c = items.c
        gradient[:, 2] += (priors.c.alpha - 1) * (1 - c) - (priors.c.beta - 1) * c
        information[:, 2, 2] += (priors.c.alpha + priors.c.beta - 2) * c * (1 - c)
    if priors.a is not None and per_item_slope:
        a = np.maximum(items.a, 1e-6)
        sd2 = priors.a.sd_log**2
        gradient[:, 0] += -1 / a - (np.log(a) - priors.a.mean_log) / (sd2 * a)
        information[:, 0, 0] += 1 / (sd2 * a * a)
    if priors.b is not None:
        b = -items.d / items.a
        db = np.stack([items.d / items.a**2, -1 / items.a], axis=1)
        gradient[:, :2] += (-(b - priors.b.mean) / priors.b.sd**2)[:, None] * db
        information[:, :2, :2] += db[:, :, None] * db[:, None, :] / priors.b.sd**2
    return gradient, information


def _likelihood_terms(
    right: FloatArray, wrong: FloatArray, points: FloatArray, items: ItemArrays, n_params: int
) -> tuple[FloatArray, FloatArray]:
    """Gradient (J, K) and expected information (J, K, K) of the expected log-likelihood."""
    c = items.c if n_params == 3 else np.zeros_like(items.a)
    deriv = probability_derivatives(items.a, items.d, c, points, n_params)
    variance = deriv.p * (1.0 - deriv.p)
    residual = (right - (right + wrong) * deriv.p) / variance
    gradient = np.einsum("jq,jqk->jk", residual, deriv.gradient)
    weight = (right + wrong) / variance
    information = np.einsum("jq,jqk,jql->jkl", weight, deriv.gradient, deriv.gradient)
    return gradient, information


def item_objective(
    right: FloatArray, wrong: FloatArray, points: FloatArray, items: ItemArrays, model: str, priors: Priors
) -> FloatArray:
    """Expected log-likelihood plus log prior of each item, shape (J,)."""
    c = items.c if model == "3PL" else np.zeros_like(items.a)
    z = items.a[:, None] * points[None, :] + items.d[:, None]
    p = c[:, None] + (1 - c[:, None]) * logistic(z)
    return expected_loglik(right, wrong, p) + prior_log_density(items, priors, model, model != "1PL")


def _clipped(items: ItemArrays, model: str, priors: Priors) -> ItemArrays:
    low = 0.01 if priors.a is not None else SLOPE_BOUNDS[0]
    a = np.clip(items.a, low, SLOPE_BOUNDS[1])
    d = np.clip(items.d, -INTERCEPT_BOUND, INTERCEPT_BOUND)
    gamma = np.clip(items.gamma, *LOGIT_C_BOUNDS) if model == "3PL" else items.gamma
    return ItemArrays(a, d, gamma)


def _stepped(items: ItemArrays, step: FloatArray, scale: FloatArray, free: BoolArray) -> ItemArrays:
    s = (scale * free)[:, None] * step
    gamma = items.gamma + s[:, 2] if step.shape[1] == 3 else items.gamma
    return ItemArrays(items.a + s[:, 0], items.d + s[:, 1], gamma)


def maximise_items(
    right: FloatArray,
    wrong: FloatArray,
    points: FloatArray,
    items: ItemArrays,
    free: BoolArray,
    model: str,
    priors: Priors,
    max_steps: int = 8,
    tol: float = 1e-7,
) -> ItemArrays:
    """Fisher-scoring M-step for the free items; fixed items come back unchanged."""
    if not free.any():
        return items
    step_function = _common_slope_step if model == "1PL" else _item_steps
    for _ in range(max_steps):
        before = item_objective(right, wrong, points, items, model, priors)
        step = step_function(right, wrong, points, items, free, model, priors)
        items, moved = _backtrack(right, wrong, points, items, step, free, model, priors, before)
        if moved < tol:
            break
    return items


def _item_steps(
    right: FloatArray,
    wrong: FloatArray,
    points: FloatArray,
    items: ItemArrays,
    free: BoolArray,
    model: str,
    priors: Priors,
) -> FloatArray:
    k = n_item_params(model)
    gradient, information = _likelihood_terms(right, wrong, points, items, k)
    prior_gradient, prior_information = prior_terms(items, priors, k, per_item_slope=True)
    gradient += prior_gradient
    information += prior_information
    ridge = 1e-8 * (np.trace(information, axis1=1, axis2=2) + 1.0)
    information += ridge[:, None, None] * np.eye(k)
    return np.asarray(np.linalg.solve(information, gradient[..., None])[..., 0], dtype=np.float64)


def _common_slope_step(
    right: FloatArray,
    wrong: FloatArray,
    points: FloatArray,
    items: ItemArrays,
    free: BoolArray,
    model: str,
    priors: Priors,
) -> FloatArray:
    gradient, information = _likelihood_terms(right, wrong, points, items, 2)
    prior_gradient, prior_information = prior_terms(items, priors, 2, per_item_slope=False)
    gradient, information = gradient + prior_gradient, information + prior_information
    g_a, g_d = gradient[free, 0].sum(), gradient[free, 1]
    h_aa, h_ad, h_dd = information[free, 0, 0].sum(), information[free, 0, 1], information[free, 1, 1] + 1e-10
    if priors.a is not None:
        common = float(items.a[free][0])
        slope_gradient, slope_information = prior_terms(
            ItemArrays(np.array([common]), np.zeros(1), np.zeros(1)), Priors(c=None, a=priors.a), 2, True
        )
        g_a += slope_gradient[0, 0]
        h_aa += slope_information[0, 0, 0]
    schur = h_aa - np.sum(h_ad**2 / h_dd) + 1e-10
    delta_a = (g_a - np.sum(h_ad * g_d / h_dd)) / schur
    step = np.zeros((items.a.size, 2))
    step[free, 0] = delta_a
    step[free, 1] = (g_d - h_ad * delta_a) / h_dd
    return step


def _backtrack(
    right: FloatArray,
    wrong: FloatArray,
    points: FloatArray,
    items: ItemArrays,
    step: FloatArray,
    free: BoolArray,
    model: str,
    priors: Priors,
    before: FloatArray,
) -> tuple[ItemArrays, float]:
    """Halve steps until the objective does not decrease; per item, or jointly for the 1PL."""
    largest = np.max(np.abs(step), axis=1)
    scale = np.minimum(1.0, 2.0 / np.maximum(largest, 1e-300))
    pending = free.copy()
    result = items
    for _ in range(12):
        trial = _clipped(_stepped(items, step, scale, pending), model, priors)
        after = item_objective(right, wrong, points, trial, model, priors)
        if model == "1PL":
            ok = np.full_like(
                pending, after[free].sum() >= before[free].sum() - 1e-9 * abs(before[free].sum())
            )
        else:
            ok = after >= before - 1e-12 * np.abs(before)
        accepted = pending & ok
        result = _merge(result, trial, accepted)
        pending &= ~ok
        if not pending.any():
            break
        scale = np.where(pending, scale * 0.5, scale)
    moved = np.abs(np.concatenate([result.a - items.a, result.d - items.d]))
    if model == "3PL":
        moved = np.concatenate([moved, np.abs(result.gamma - items.gamma)])
    return result, float(moved.max(initial=0.0))


def _merge(base: ItemArrays, trial: ItemArrays, take: BoolArray) -> ItemArrays:
    return ItemArrays(
        np.where(take, trial.a, base.a),
        np.where(take, trial.d, base.d),
        np.where(take, trial.gamma, base.gamma),
    )
