"""The M-step: each item's parameters maximise its expected complete-data log-posterior.

Given expected counts r (right) and w (wrong) of shape (J, Q) from the E-step, item j maximises

    Σ_q r_jq log P_j(θ_q) + w_jq log(1 − P_j(θ_q)) + log prior_j

over η = (a, d[, γ]) by Fisher scoring (the expected information is positive semi-definite, so
steps go uphill) with per-item step halving. The 1PL shares one slope among all free items; its
(slope, intercepts) system has an arrow-shaped information matrix solved in O(J); the Rasch model
(slopes held at 1) steps the intercepts only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dreamseed.irt.item_model import ItemModel, expected_loglik, logistic, probability_derivatives
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


@dataclass(frozen=True, eq=False)
class MStepProblem:
    """What one M-step maximises: expected counts ``right``, ``wrong`` (J, Q) at ``points`` (Q,),
    the mask of ``free`` items (J,), the item ``model`` and the ``priors``."""

    right: FloatArray
    wrong: FloatArray
    points: FloatArray
    free: BoolArray
    model: ItemModel
    priors: Priors


def prior_log_density(items: ItemArrays, priors: Priors, model: ItemModel) -> FloatArray:
    """log prior of each item (J,), constants dropped; the slope prior only for per-item slopes."""
    total = np.zeros_like(items.a)
    if model.guessing and priors.c is not None:
        c = items.c
        total += (priors.c.alpha - 1) * np.log(c) + (priors.c.beta - 1) * np.log1p(-c)
    if priors.a is not None and model.per_item_slope:
        total += _slope_log_prior(items.a, priors)
    if priors.b is not None:
        b = -items.d / items.a
        total += -0.5 * ((b - priors.b.mean) / priors.b.sd) ** 2
    return total


def common_slope_log_prior(slope: float, priors: Priors) -> float:
    """log prior of the 1PL's shared slope (0 without a slope prior)."""
    return 0.0 if priors.a is None else float(_slope_log_prior(np.array([slope]), priors)[0])


def _slope_log_prior(a: FloatArray, priors: Priors) -> FloatArray:
    assert priors.a is not None
    log_a = np.log(np.maximum(a, 1e-6))
    return np.asarray(-log_a - 0.5 * ((log_a - priors.a.mean_log) / priors.a.sd_log) ** 2, dtype=np.float64)


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


def common_slope_prior_terms(slope: float, priors: Priors) -> tuple[float, float]:
    """Gradient and information of the slope prior at the 1PL's shared ``slope``."""
    if priors.a is None:
        return 0.0, 0.0
    one = ItemArrays(np.array([slope]), np.zeros(1), np.zeros(1))
    gradient, information = prior_terms(one, Priors(c=None, a=priors.a), 2, True)
    return float(gradient[0, 0]), float(information[0, 0, 0])


def _likelihood_terms(problem: MStepProblem, items: ItemArrays) -> tuple[FloatArray, FloatArray]:
    """Gradient (J, K) and expected information (J, K, K) of the expected log-likelihood."""
    n_params = problem.model.n_params
    c = items.c if problem.model.guessing else np.zeros_like(items.a)
    deriv = probability_derivatives(items.a, items.d, c, problem.points, n_params)
    variance = deriv.p * (1.0 - deriv.p)
    right, wrong = problem.right, problem.wrong
    residual = (right - (right + wrong) * deriv.p) / variance
    gradient = np.einsum("jq,jqk->jk", residual, deriv.gradient)
    weight = (right + wrong) / variance
    information = np.einsum("jq,jqk,jql->jkl", weight, deriv.gradient, deriv.gradient)
    return gradient, information


def item_objective(problem: MStepProblem, items: ItemArrays) -> FloatArray:
    """Expected log-likelihood plus log prior of each item, shape (J,)."""
    c = items.c if problem.model.guessing else np.zeros_like(items.a)
    z = items.a[:, None] * problem.points[None, :] + items.d[:, None]
    p = c[:, None] + (1 - c[:, None]) * logistic(z)
    return expected_loglik(problem.right, problem.wrong, p) + prior_log_density(
        items, problem.priors, problem.model
    )


def _clipped(items: ItemArrays, problem: MStepProblem) -> ItemArrays:
    low = 0.01 if problem.priors.a is not None else SLOPE_BOUNDS[0]
    a = np.clip(items.a, low, SLOPE_BOUNDS[1])
    d = np.clip(items.d, -INTERCEPT_BOUND, INTERCEPT_BOUND)
    gamma = np.clip(items.gamma, *LOGIT_C_BOUNDS) if problem.model.guessing else items.gamma
    return ItemArrays(a, d, gamma)


def _stepped(items: ItemArrays, step: FloatArray, scale: FloatArray, free: BoolArray) -> ItemArrays:
    s = (scale * free)[:, None] * step
    gamma = items.gamma + s[:, 2] if step.shape[1] == 3 else items.gamma
    return ItemArrays(items.a + s[:, 0], items.d + s[:, 1], gamma)


def maximise_items(
    problem: MStepProblem, items: ItemArrays, max_steps: int = 8, tol: float = 1e-7
) -> ItemArrays:
    """Fisher-scoring M-step for the free items; fixed items come back unchanged."""
    if not problem.free.any():
        return items
    model = problem.model
    step_function = (
        _common_slope_step if model.common_slope else _intercept_steps if model.fixed_slope else _item_steps
    )
    for _ in range(max_steps):
        before = item_objective(problem, items)
        step = step_function(problem, items)
        items, moved = _backtrack(problem, items, step, before)
        if moved < tol:
            break
    return items


def _item_steps(problem: MStepProblem, items: ItemArrays) -> FloatArray:
    k = problem.model.n_params
    gradient, information = _likelihood_terms(problem, items)
    prior_gradient, prior_information = prior_terms(items, problem.priors, k, per_item_slope=True)
    gradient += prior_gradient
    information += prior_information
    ridge = 1e-8 * (np.trace(information, axis1=1, axis2=2) + 1.0)
    information += ridge[:, None, None] * np.eye(k)
    return np.asarray(np.linalg.solve(information, gradient[..., None])[..., 0], dtype=np.float64)


def _intercept_steps(problem: MStepProblem, items: ItemArrays) -> FloatArray:
    """Rasch: slopes stay at 1; each intercept takes its own Fisher-scoring step."""
    gradient, information = _likelihood_terms(problem, items)
    prior_gradient, prior_information = prior_terms(items, problem.priors, 2, per_item_slope=False)
    gradient, information = gradient + prior_gradient, information + prior_information
    step = np.zeros((items.a.size, 2))
    step[:, 1] = gradient[:, 1] / (information[:, 1, 1] + 1e-10)
    return step


def _common_slope_step(problem: MStepProblem, items: ItemArrays) -> FloatArray:
    free = problem.free
    gradient, information = _likelihood_terms(problem, items)
    prior_gradient, prior_information = prior_terms(items, problem.priors, 2, per_item_slope=False)
    gradient, information = gradient + prior_gradient, information + prior_information
    g_a, g_d = gradient[free, 0].sum(), gradient[free, 1]
    h_aa, h_ad, h_dd = information[free, 0, 0].sum(), information[free, 0, 1], information[free, 1, 1] + 1e-10
    slope_gradient, slope_information = common_slope_prior_terms(float(items.a[free][0]), problem.priors)
    g_a += slope_gradient
    h_aa += slope_information
    schur = h_aa - np.sum(h_ad**2 / h_dd) + 1e-10
    delta_a = (g_a - np.sum(h_ad * g_d / h_dd)) / schur
    step = np.zeros((items.a.size, 2))
    step[free, 0] = delta_a
    step[free, 1] = (g_d - h_ad * delta_a) / h_dd
    return step


def _backtrack(
    problem: MStepProblem, items: ItemArrays, step: FloatArray, before: FloatArray
) -> tuple[ItemArrays, float]:
    """Halve steps until the objective does not decrease; per item, or jointly for the 1PL."""
    free = problem.free
    largest = np.max(np.abs(step), axis=1)
    scale = np.minimum(1.0, 2.0 / np.maximum(largest, 1e-300))
    pending = free.copy()
    result = items
    for _ in range(12):
        trial = _clipped(_stepped(items, step, scale, pending), problem)
        after = item_objective(problem, trial)
        if problem.model.common_slope:
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
    if problem.model.guessing:
        moved = np.concatenate([moved, np.abs(result.gamma - items.gamma)])
    return result, float(moved.max(initial=0.0))


def _merge(base: ItemArrays, trial: ItemArrays, take: BoolArray) -> ItemArrays:
    return ItemArrays(
        np.where(take, trial.a, base.a),
        np.where(take, trial.d, base.d),
        np.where(take, trial.gamma, base.gamma),
    )
