"""The M-step of the multiple-group EM: item parameters per group, invariant ones shared.

Arrays: ``a``, ``d``, ``gamma`` (logit c) are (G, J) per group and item; ``right``/``wrong`` the
expected counts (G, J, Q) on the quadrature points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from dreamseed.irt.item_model import expected_loglik, logistic, probability_derivatives
from dreamseed.irt.mstep import (
    INTERCEPT_BOUND,
    LOGIT_C_BOUNDS,
    SLOPE_BOUNDS,
    ItemArrays,
    prior_log_density,
    prior_terms,
)

if TYPE_CHECKING:
    from dreamseed.irt.multigroup import _Problem

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def _expected(
    problem: _Problem, right: FloatArray, wrong: FloatArray, a: FloatArray, d: FloatArray, gamma: FloatArray
) -> FloatArray:
    """Expected complete-data log-likelihood per group and item, (G, J)."""
    c = logistic(gamma)
    z = a[:, :, None] * problem.grid.points + d[:, :, None]
    p = c[:, :, None] + (1 - c[:, :, None]) * logistic(z)
    return np.stack([expected_loglik(right[g], wrong[g], p[g]) for g in range(a.shape[0])])


def _objective(
    problem: _Problem, right: FloatArray, wrong: FloatArray, a: FloatArray, d: FloatArray, gamma: FloatArray
) -> FloatArray:
    """Expected log-likelihood plus log prior per group and item, (G, J); a group-specific
    parameter's prior counts once per group, an invariant one once per group too (as mirt)."""
    return _expected(problem, right, wrong, a, d, gamma) + group_log_prior(problem, a, d, gamma)


def group_log_prior(problem: _Problem, a: FloatArray, d: FloatArray, gamma: FloatArray) -> FloatArray:
    """Log prior per group and item, (G, J)."""
    return np.stack(
        [
            prior_log_density(ItemArrays(a[g], d[g], gamma[g]), problem.priors, problem.model)
            for g in range(a.shape[0])
        ]
    )


def _terms(
    problem: _Problem, right: FloatArray, wrong: FloatArray, a: FloatArray, d: FloatArray, gamma: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Gradient (G, J, K) and expected information (G, J, K, K) per group, priors included."""
    k = problem.model.n_params
    gradients, informations = [], []
    for g in range(a.shape[0]):
        c = logistic(gamma[g])
        deriv = probability_derivatives(a[g], d[g], c, problem.grid.points, k)
        variance = deriv.p * (1.0 - deriv.p)
        residual = (right[g] - (right[g] + wrong[g]) * deriv.p) / variance
        gradient = np.einsum("jq,jqk->jk", residual, deriv.gradient)
        weight = (right[g] + wrong[g]) / variance
        information = np.einsum("jq,jqk,jql->jkl", weight, deriv.gradient, deriv.gradient)
        prior_gradient, prior_information = prior_terms(
            ItemArrays(a[g], d[g], gamma[g]), problem.priors, k, problem.model.per_item_slope
        )
        gradients.append(gradient + prior_gradient)
        informations.append(information + prior_information)
    return np.stack(gradients), np.stack(informations)


def maximise(
    problem: _Problem,
    right: FloatArray,
    wrong: FloatArray,
    a: FloatArray,
    d: FloatArray,
    gamma: FloatArray,
    max_steps: int = 3,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Fisher-scoring M-step of every item's unique parameters, then the 1PL's common slope."""
    s = problem.selector * problem.updated[None, None, :, None]
    used: BoolArray = np.asarray(s.any(axis=(1, 2)))  # (J, U)
    for _ in range(max_steps):
        gradient, information = _terms(problem, right, wrong, a, d, gamma)
        g_u = np.einsum("gjk,jgku->ju", gradient, s)
        h_u = np.einsum("jgku,gjkl,jglv->juv", s, information, s)
        h_u += np.eye(used.shape[1])[None] * (~used)[:, :, None]
        h_u += 1e-8 * (np.trace(h_u, axis1=1, axis2=2) + 1.0)[:, None, None] * np.eye(used.shape[1])
        step_u = np.linalg.solve(h_u, g_u[..., None])[..., 0]
        step = np.einsum("jgku,ju->gjk", s, step_u)
        a, d, gamma, moved = _backtrack(problem, right, wrong, (a, d, gamma), step)
        if problem.model.common_slope:
            a, slope_moved = _slope_step(problem, right, wrong, a, d, gamma)
            moved = max(moved, slope_moved)
        if moved < 1e-7:
            break
    return a, d, gamma


def _apply(
    problem: _Problem, current: tuple[FloatArray, FloatArray, FloatArray], step: FloatArray, scale: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    a, d, gamma = current
    scaled = step * scale[None, :, None]
    a = np.clip(a + scaled[..., 0], *SLOPE_BOUNDS) if problem.model.per_item_slope else a
    d = np.clip(d + scaled[..., 1], -INTERCEPT_BOUND, INTERCEPT_BOUND)
    gamma = np.clip(gamma + scaled[..., 2], *LOGIT_C_BOUNDS) if problem.model.guessing else gamma
    return a, d, gamma


def _backtrack(
    problem: _Problem,
    right: FloatArray,
    wrong: FloatArray,
    current: tuple[FloatArray, FloatArray, FloatArray],
    step: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, float]:
    """Halve each item's step until its objective (summed over groups) does not decrease."""
    before = _objective(problem, right, wrong, *current).sum(axis=0)
    largest = np.max(np.abs(step), axis=(0, 2))
    scale = np.minimum(1.0, 2.0 / np.maximum(largest, 1e-300))
    pending = largest > 0
    result = current
    for _ in range(12):
        trial = _apply(problem, current, step, np.where(pending, scale, 0.0))
        after = _objective(problem, right, wrong, *trial).sum(axis=0)
        ok = pending & (after >= before - 1e-12 * np.abs(before))
        result = tuple(np.where(ok[None, :], t, r) for t, r in zip(trial, result, strict=True))  # type: ignore[assignment]
        pending &= ~ok
        if not pending.any():
            break
        scale = np.where(pending, scale * 0.5, scale)
    with np.errstate(invalid="ignore"):
        changes = [np.nan_to_num(np.abs(r - c), posinf=0.0) for r, c in zip(result, current, strict=True)]
    moved = max(float(np.max(change, initial=0.0)) for change in changes)
    return result[0], result[1], result[2], moved


def _slope_step(
    problem: _Problem, right: FloatArray, wrong: FloatArray, a: FloatArray, d: FloatArray, gamma: FloatArray
) -> tuple[FloatArray, float]:
    """One scoring step of the 1PL's slope shared by every item and group, with step halving."""
    gradient, information = _terms(problem, right, wrong, a, d, gamma)
    step = float(gradient[..., 0].sum() / (information[..., 0, 0].sum() + 1e-10))
    before = float(_objective(problem, right, wrong, a, d, gamma).sum())
    slope = float(a.flat[0])
    for _ in range(12):
        trial = np.full_like(a, float(np.clip(slope + step, 0.01, SLOPE_BOUNDS[1])))
        if float(_objective(problem, right, wrong, trial, d, gamma).sum()) >= before - 1e-12 * abs(before):
            return trial, abs(float(trial.flat[0]) - slope)
        step *= 0.5
    return a, 0.0
