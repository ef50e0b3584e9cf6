"""EM iterations with SQUAREM acceleration (Varadhan & Roland 2008, scheme S3).

The caller supplies the EM map as ``update(x) -> (F(x), objective(x))``: one E-step at x (which
yields the objective there, the marginal log-posterior) followed by one M-step. Each SQUAREM cycle
takes two plain EM steps x → x1 → x2, extrapolates x' = x − 2αr + α²v with r = x1 − x,
v = x2 − 2x1 + x and α = −‖r‖/‖v‖ (at most −1, at least −step_max), and then stabilises with one
EM step from x'. If the objective at x' is below the objective at x the extrapolation is dropped
and the cycle continues from x2, so the objective never decreases between cycles.

Convergence: the change of a plain EM step, as measured by ``distance`` (default: the largest
absolute change of any coordinate), is below ``tol`` *and* the objective
changed by less than ``objective_tol`` × (1 + |objective|) since the previous cycle (relative, so
float32 rounding in the E-step of large data sets cannot stall it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class IterationInfo:
    """Reported after every EM map evaluation (one E-step and M-step)."""

    iteration: int
    objective: float
    max_change: float
    accelerated: bool


@dataclass(frozen=True, eq=False)
class EMOutcome:
    x: FloatArray
    iterations: int
    converged: bool


Update = Callable[[FloatArray], tuple[FloatArray, float]]


Distance = Callable[[FloatArray, FloatArray], float]


def largest_change(new: FloatArray, old: FloatArray) -> float:
    return float(np.max(np.abs(new - old), initial=0.0))


class _Counter:
    def __init__(
        self,
        update: Update,
        max_iter: int,
        progress: Callable[[IterationInfo], None] | None,
        distance: Distance,
    ):
        self.update, self.max_iter, self.progress, self.count = update, max_iter, progress, 0
        self.distance = distance

    def __call__(self, x: FloatArray, accelerated: bool = False) -> tuple[FloatArray, float]:
        new_x, objective = self.update(x)
        self.count += 1
        if self.progress is not None:
            self.progress(IterationInfo(self.count, objective, self.distance(new_x, x), accelerated))
        return new_x, objective

    @property
    def exhausted(self) -> bool:
        return self.count >= self.max_iter


def run_em(
    update: Update,
    x0: FloatArray,
    *,
    project: Callable[[FloatArray], FloatArray],
    tol: float,
    objective_tol: float,
    max_iter: int,
    accelerate: bool = True,
    progress: Callable[[IterationInfo], None] | None = None,
    distance: Distance = largest_change,
) -> EMOutcome:
    """Iterate the EM map from ``x0`` until convergence or ``max_iter`` map evaluations."""
    step = _Counter(update, max_iter, progress, distance)
    x, previous, step_max = x0, -np.inf, 1.0
    while not step.exhausted:
        x1, objective = step(x)
        change = distance(x1, x)
        if change < tol and abs(objective - previous) < objective_tol * (1.0 + abs(objective)):
            return EMOutcome(x1, step.count, True)
        previous = objective
        if not accelerate or step.exhausted:
            x = x1
            continue
        x2, _ = step(x1)
        r, v = x1 - x, x2 - 2 * x1 + x
        norm_v = float(np.sqrt(v @ v))
        if norm_v == 0.0 or step.exhausted:
            x = x2
            continue
        alpha = float(np.clip(-np.sqrt(r @ r) / norm_v, -step_max, -1.0))
        extrapolated = project(x - 2 * alpha * r + alpha * alpha * v)
        stabilised, extrapolated_objective = step(extrapolated, accelerated=True)
        if np.isfinite(extrapolated_objective) and extrapolated_objective >= objective:
            x = stabilised
            if alpha == -step_max:
                step_max *= 4.0
        else:
            x, step_max = x2, max(1.0, step_max / 4.0)
    return EMOutcome(x, step.count, False)
